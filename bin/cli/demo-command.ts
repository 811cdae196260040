import type { Command } from './command.ts';
export const demoCommand: Command = {
  name: 'demo',
  summary: 'wip',
  usage: '',
  optionHelp: [],
  options: {},
  run: async () => 0,
};
