// Required by lib.js with a path relative to lib.js.
module.exports = { factor: 2 }
