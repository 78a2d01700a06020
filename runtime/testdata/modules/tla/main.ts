const wait = (ms: number): Promise<string> => new Promise((r) => setTimeout(() => r(`waited ${ms}`), ms));
const s: string = await wait(1);
console.log(s);
