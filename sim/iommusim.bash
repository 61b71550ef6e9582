# SPDX-License-Identifier: MIT
# bash completion for iommusim: commands, options, platforms, policies and
# keys (the keys and platforms are asked of iommusim itself, so they stay
# in step with the binary). Installed as share/bash-completion/completions/iommusim.

_iommusim() {
	local cur prev cmd words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run compare profile keys sweep merge plot script stress demo --plot --help --version" -- "$cur"))
		return
	fi
	case $prev in
	--platform | -p)
		if [ "$cmd" = stress ]; then
			COMPREPLY=($(compgen -W "lazy-percpu lazy-single strict all" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(iommusim profile list 2>/dev/null | cut -d' ' -f1)" -- "$cur"))
		fi
		return ;;
	--platforms)
		COMPREPLY=($(compgen -W "$(iommusim profile list 2>/dev/null | cut -d' ' -f1) all" -- "$cur"))
		return ;;
	--policy | --policies)
		if [ "$cmd" = stress ]; then
			COMPREPLY=($(compgen -W "lazy-percpu lazy-single strict all" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "kernel strict lazy-percpu lazy-single legacy legacy-strict" -- "$cur"))
		fi
		return ;;
	--set | -S)
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -S = -W "$(iommusim keys --json 2>/dev/null | sed -n 's/^{"name":"\([^"]*\)".*/\1/p' | sort -u)" -- "$cur"))
		return ;;
	--fail-on)
		COMPREPLY=($(compgen -W "ism-exposure status16 map-errors downgraded exposure-p99>" -- "$cur"))
		return ;;
	--junit | --output | -o)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--plot)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "csv json long" -- "$cur"))
		return ;;
	--x)
		COMPREPLY=($(compgen -W "fq_size fq_timeout_ns policy platform" -- "$cur"))
		return ;;
	esac
	case $cmd in
	run)
		words="--platform --policy --fq-size --fq-timeout --ism-force-fq --cmdline --seed --set --fail-on --json --csv --quiet --help" ;;
	compare)
		words="--platforms --policies --seed --set --no-ism --fail-on --json --csv --plot --quiet --help" ;;
	sweep)
		if [[ $cur == -* ]]; then
			words="--platform --policy --set --seed --reps --jobs --output --fresh --format --shard --max-points --list --plot --quiet --help"
		elif [[ $cur == *=* ]]; then
			COMPREPLY=()  # a LIST: values are the user's
			return
		else
			# an axis: KEY= for any key, platform or policy
			compopt -o nospace 2>/dev/null
			COMPREPLY=($(compgen -S = -W "platform policy $(iommusim keys --json 2>/dev/null | sed -n 's/^{"name":"\([^"]*\)".*/\1/p' | sort -u)" -- "$cur") $(compgen -f -- "$cur"))
			return
		fi ;;
	merge) words="--output --help" ;;
	plot) words="--output --x --no-render --quiet --help" ;;
	profile)
		if [ "$COMP_CWORD" -eq 2 ]; then
			words="list show"
		else
			words="$(iommusim profile list 2>/dev/null | cut -d' ' -f1) --set"
		fi ;;
	keys) words="--json --markdown --help" ;;
	script) words="--quiet --check --tap --tap-flat --junit --help" ;;
	stress) words="--threads --duration --policy --fq-size --fq-timeout --live --max-size --seed --json --quiet --help" ;;
	esac
	if [[ $cur == -* ]] || [ "$cmd" = profile ] || [ "$cmd" = keys ]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _iommusim iommusim
