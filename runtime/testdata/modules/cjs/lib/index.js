exports.index = 'lib/index.js';
