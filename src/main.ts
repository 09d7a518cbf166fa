#!/usr/bin/env node
// kubectl-netns executable. kubectl finds it on PATH as `kubectl-netns` and passes the remaining
// arguments unchanged.
import { hideBin } from 'yargs/helpers';
import { main } from './cli/app.ts';

const code = await main(hideBin(process.argv));
// Exit explicitly once stdout has drained: idle keep-alive sockets to the API server must not
// hold the terminal for seconds after the work is done.
if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
