try {
  require('./sub/bad.js');
} catch (e) {
  console.log(e instanceof SyntaxError, e.code);
  console.log(e.message);
}
