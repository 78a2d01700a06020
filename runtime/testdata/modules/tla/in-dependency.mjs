import './has-tla.mjs';
