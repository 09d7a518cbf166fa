// `kubectl netns completion bash|zsh|fish`: shell completion for `kubectl-netns` typed directly,
// for kubectl older than 1.26 (which does not complete plugins). Newer kubectl finds
// kubectl_complete-netns on PATH by itself. The scripts ask `kubectl-netns __complete`, which every
// install has (krew links only kubectl-netns).
import { defineCommand } from '../cli/command.ts';
import type { GlobalArgs } from '../cli/global.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface CompletionArgs extends GlobalArgs {
  shell: Shell;
}

// The helper prints candidates, one per line, then ":DIRECTIVE" (cobra's; 4 = no file names).
const BASH = `# kubectl-netns completion for bash: source <(kubectl-netns completion bash)
_kubectl_netns() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out directive IFS=$'\\n'
  out=$(kubectl-netns __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=\${out##*:}
  out=\${out%:*}
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if [ \${#COMPREPLY[@]} -eq 0 ] && [ "$directive" != 4 ]; then COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o default -F _kubectl_netns kubectl-netns
`;

const ZSH = `# kubectl-netns completion for zsh: source <(kubectl-netns completion zsh)
_kubectl_netns() {
  local -a lines candidates
  lines=("\${(@f)$(kubectl-netns __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)lines[1,-2]}")
  if (( \${#candidates} )); then compadd -- "\${candidates[@]}"; elif [[ \${lines[-1]} != :4 ]]; then _files; fi
}
compdef _kubectl_netns kubectl-netns
`;

const FISH = `# kubectl-netns completion for fish: kubectl-netns completion fish | source
function __kubectl_netns_complete
  set -l words (commandline -opc) (commandline -ct)
  kubectl-netns __complete $words[2..-1] 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-netns -f -a '(__kubectl_netns_complete)'
`;

/** The script for SHELL. Pure. */
export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}

export const completion = defineCommand<CompletionArgs>({
  name: 'completion',
  positionals: '<shell>',
  summary: 'Print a shell completion script for kubectl-netns (bash, zsh or fish), for kubectl older than 1.26',
  usage: 'completion (bash | zsh | fish)',
  examples: [
    ['Complete kubectl-netns in this bash session', 'completion bash > /tmp/k && source /tmp/k'],
    ['For zsh, in ~/.zshrc', 'completion zsh > ~/.zsh-kubectl-netns && source ~/.zsh-kubectl-netns'],
  ],
  builder: (y) => y.positional('shell', { choices: SHELLS, demandOption: true, describe: 'bash, zsh or fish' }),
  run: (a) => {
    process.stdout.write(completionScript(a.shell));
    return Promise.resolve(0);
  },
});
