await Promise.resolve();
throw new Error('top-level await failed');
