for (const name of ['./nope', './nope.json', 'no-such-package', 'node:no-such-builtin']) {
  try {
    require(name);
    console.log('loaded?!');
  } catch (e) {
    console.log(e instanceof Error, e.constructor === Error, e.code, e.message);
  }
}
