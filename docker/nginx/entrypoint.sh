#!/bin/sh
# The nginx image's entrypoint: writes the CDN token secrets that cdn.conf checks
# (secure_link_md5) from the environment, then runs nginx. Secrets are letters and digits
# only: nginx reads them verbatim inside a quoted string.
set -eu
case "${CDN_TOKEN_SECRET:-}" in
    "") echo "nginx: CDN_TOKEN_SECRET is required" >&2; exit 1 ;;
    *[!A-Za-z0-9]*) echo "nginx: CDN_TOKEN_SECRET must be letters and digits only" >&2; exit 1 ;;
esac
case "${CDN_TOKEN_SECRET_PREVIOUS:-}" in
    *[!A-Za-z0-9]*) echo "nginx: CDN_TOKEN_SECRET_PREVIOUS must be letters and digits only" >&2; exit 1 ;;
esac
umask 077
printf 'map "" $cdn_secret { default "%s"; }\nmap "" $cdn_secret_previous { default "%s"; }\n' \
    "$CDN_TOKEN_SECRET" "${CDN_TOKEN_SECRET_PREVIOUS:-}" >/etc/nginx/cdn-secrets.conf
# The web client's origins (comma-separated WEB_CLIENT_ORIGINS) may read media cross-origin.
{
    printf 'map $http_origin $cdn_cors_origin {\n    default "";\n'
    for origin in $(printf '%s' "${WEB_CLIENT_ORIGINS:-}" | tr ',' ' '); do
        case "$origin" in
            *[!A-Za-z0-9:/.-]*) echo "nginx: WEB_CLIENT_ORIGINS has an invalid origin: $origin" >&2; exit 1 ;;
        esac
        printf '    "%s" $http_origin;\n' "$origin"
    done
    printf '}\n'
} >>/etc/nginx/cdn-secrets.conf
exec "$@"
