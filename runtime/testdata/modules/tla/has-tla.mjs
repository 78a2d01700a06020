await Promise.resolve();
