export default function greet(who) { return `hello ${who}`; }
export const shout = (s) => s.toUpperCase() + '!';
export let counter = 0;
export function bump() { counter++; }
