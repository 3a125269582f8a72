/** `npm run test:fuzz`: 200,000 runs in all unless FUZZ_RUNS says otherwise. */
process.env.FUZZ_RUNS ??= '200000';
