let loads = (globalThis.__aLoads || 0) + 1;
globalThis.__aLoads = loads;
exports.name = 'a';
exports.loads = () => loads;
