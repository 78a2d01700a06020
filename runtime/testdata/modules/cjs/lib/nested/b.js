// '../c.js' is lib/c.js: relative to this file, not to the main script.
module.exports = { name: 'b', c: require('../c.js'), json: require('./b.json').from, filename: __filename };
