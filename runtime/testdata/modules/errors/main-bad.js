// the main script itself does not parse
let x = {
  a: 1,
  b: 2,,
};
