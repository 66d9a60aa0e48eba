# bash completion for agentwatch(1)                          -*- shell-script -*-
#
# Commands and options as the option tables of src/cli_opt.c and the
# commands of src/cli.c define them; tests/completions.py fails when one
# is missing here (or in _agentwatch, the zsh completion).

_agentwatch()
{
    local cur prev words cword cmd i
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="export follow probe prune report rules scan status"
    local global="--config --db --allow-unsafe-dir --help --version"

    # The command: the first word that is not a global option or its value.
    cmd=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config|--db) ((i++)) ;;
            -*) ;;
            *) cmd=${words[i]}; break ;;
        esac
    done

    # Values.
    case $prev in
        --config|--db|--rules|--local-rules|--ca-file|--spool)
            COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
        --by)
            COMPREPLY=($(compgen -W "minute hour day" -- "$cur")); return ;;
        --format)
            case $cmd in
                report) COMPREPLY=($(compgen -W "table json csv" -- "$cur")) ;;
                export) COMPREPLY=($(compgen -W "ndjson csv ecs" -- "$cur")) ;;
                probe) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
                status) COMPREPLY=($(compgen -W "text json intune" -- "$cur")) ;;
                rules) COMPREPLY=($(compgen -W "table tsv auto itms cmtrace line" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "auto itms cmtrace line" -- "$cur")) ;;
            esac
            return ;;
        --since|--until|--older-than|--category|--rule|--host|--cursor|--reset-cursor|--incidents|\
        --timezone|--max-record|--poll-interval|--rescan|--retention-days|--timeout|--warn|-w|--crit|-c|\
        --max-age)
            return ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local opts
    case $cmd in
        scan)
            opts="--rules --local-rules --format --host --max-record --timezone --quiet --db --help" ;;
        follow)
            opts="--rules --local-rules --format --host --max-record --poll-interval --rescan
                  --retention-days --spool --timezone --verbose --wait-for-source --db --help" ;;
        report)
            opts="--since --until --by --category --rule --host --incidents --format --local --db --help" ;;
        status)
            opts="--since --warn --crit --max-age --format --db --help" ;;
        export)
            opts="--since --until --category --rule --host --format --cursor --list-cursors
                  --reset-cursor --db --help" ;;
        prune)
            opts="--older-than --db --help" ;;
        probe)
            opts="--ca-file --timeout --no-revocation --format --no-store --db --help" ;;
        rules)
            opts="--rules --local-rules --format --quiet --timezone --help" ;;
        *)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $cmd == rules && $prev == rules ]]; then
        COMPREPLY=($(compgen -W "check list test" -- "$cur"))
    elif [[ $cmd == scan || $cmd == follow || $cmd == rules ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null
    fi
} &&
complete -F _agentwatch agentwatch
