# Shell helpers shared by the lab scripts (lab.sh, dns.sh); sourced, not run.

# alive PID: the process exists and is not a zombie (a child of the calling shell that died stays a
# zombie until that shell exits).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# wait_gone SECONDS PID...: true once none of the pids is alive.
wait_gone() {
    local tenths=$(($1 * 10)) pid any
    shift
    while ((tenths-- > 0)); do
        any=0
        for pid in "$@"; do
            if alive "$pid"; then any=1; fi
        done
        ((any)) || return 0
        sleep 0.1
    done
    return 1
}
