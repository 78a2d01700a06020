module.exports = 'c from lib';
