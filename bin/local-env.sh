# Sourced by bin/start and bin/manage, after venv.sh: keep the settings a local run needs
# in .env, so that `python manage.py ...` (with .venv active) works the same way later.
#
# Each is written once, only when neither the environment nor .env sets it:
#   DJANGO_DEBUG=true           a local start means debug on
#   DJANGO_SECRET_KEY=<random>  so sessions survive a restart and debug can be turned off
# DJANGO_ENV_FILE names another file to keep them in; empty means no file: then debug is
# turned on for this run only. The tests never read .env.

env_file="${DJANGO_ENV_FILE-$ROOT/.env}"

env_file_sets() {
    [[ -n "$env_file" && -f "$env_file" ]] && grep -Eqs "^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=" "$env_file"
}

keep_in_env_file() {
    local name="$1" value="$2" why="$3"
    if [[ -n "${!name+set}" ]] || env_file_sets "$name"; then
        return 0
    fi
    if [[ -z "$env_file" ]]; then
        export "$name=$value"
        return 0
    fi
    if [[ ! -f "$env_file" ]]; then
        (umask 077 && : >"$env_file")
    fi
    printf '\n# %s (written by bin/%s on %s)\n%s=%s\n' "$why" "$(basename "$0")" "$(date -u +%Y-%m-%d)" \
        "$name" "$value" >>"$env_file"
    echo "Wrote $name to $env_file ($why)" >&2
}

keep_in_env_file DJANGO_DEBUG true "a local run: debug on"
if [[ -z "${DJANGO_SECRET_KEY:-}" ]] && ! env_file_sets DJANGO_SECRET_KEY && [[ -n "$env_file" ]]; then
    keep_in_env_file DJANGO_SECRET_KEY "$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
        "generated for this machine; keep it secret"
fi
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-budget_system.settings}"
