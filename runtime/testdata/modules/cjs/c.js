module.exports = 'WRONG: c resolved from the main script';
