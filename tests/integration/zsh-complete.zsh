# Completes WORDS as zsh would at a prompt on a terminal, with the completions of FPATH; prints every
# candidate offered, one per line, to OUT.  Usage: zsh -f zsh-complete.zsh FPATH WORDS OUT
zmodload zsh/zpty || exit 1
local fpath_dir=$1 words=$2 out=$3
: >$out

zpty shell zsh -f -i || exit 1
zpty -w shell "PS1=''; fpath=(${(q)fpath_dir} \$fpath); autoload -Uz compinit; compinit -u -D"
# Each compadd call, wrapped: the candidates it adds go to OUT (compadd -O, -A and -D only fill arrays).
zpty -w shell "compadd() {
        if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi
        local -a added; builtin compadd -A added \"\$@\"; print -rl -- \$added >>${(q)out}
        builtin compadd \"\$@\"
}"
# When the completion is over, a marker says so.
zpty -w shell "_complete_then_mark() { comppostfuncs+=(_mark); _complete }
_mark() { print -r -- '<done>' >>${(q)out} }
zstyle ':completion:*' completer _complete_then_mark"
zpty -w -n shell "$words"$'\t'
for i in {1..100}; do
        grep -qx '<done>' $out && break
        sleep 0.1
done
zpty -d shell
grep -qx '<done>' $out
