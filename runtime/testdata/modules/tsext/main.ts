// TypeScript convention: "./lib" and "./lib.js" find lib.ts, "./util.js" finds util.mts.
import { add } from "./lib";
import { add as add2 } from "./lib.js";
import { twice } from "./util.js";
console.log(add(1, 2), add2(2, 3), twice(4));
