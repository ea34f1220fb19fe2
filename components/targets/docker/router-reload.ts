/**
 * How the docker target's router takes new routes without being replaced: the rendered
 * nginx.conf is written into the running container beside the live one, checked there by nginx,
 * moved over the live one, and nginx reloads gracefully (new workers take the new connections,
 * the old ones finish the requests they hold). Pure: the shell of the command that does it.
 */
import { createHash } from "crypto";
import { shellQuote } from "../../shell";
import { nginxPidFile } from "../../traffic/nginx";

/** Where the router image's nginx reads its config. */
export const NGINX_CONF_PATH = "/etc/nginx/nginx.conf";
/** Beside the live file, so that the move is a rename: nginx never reads half a file. */
const NEXT_CONF_PATH = `${NGINX_CONF_PATH}.next`;

/** The trigger of a reload: a hash of the config, so that a state holds it once (on stdin), not twice. */
export function configHash(conf: string): string {
    return createHash("sha256").update(conf).digest("hex");
}

/** How long the old workers may take to finish the requests they hold (a read times out at 30 s) before the reload counts as failed. */
const RELOAD_WAIT_SECONDS = 60;
/** How long a router container created a moment ago may take to start nginx. */
const START_WAIT_SECONDS = 10;

/**
 * Run in the container (`sh -c`): signal nginx to reload and wait until every worker of the
 * previous config has exited. `nginx -s reload` returns once the master has the signal, but the
 * old workers keep answering until the master has parsed the file and started new ones (about
 * 0.1 s measured on a loopback nginx, under a keep-alive client), so without the wait an update
 * would end while the old routes still answer. A master that cannot apply the file keeps its old
 * workers: the wait then fails, and nginx's reason is in the container's log.
 */
function reloadAndWait(pidFile: string): string {
    const tenths = RELOAD_WAIT_SECONDS * 10;
    return [
        // A container created a moment ago may not have started nginx yet.
        "tries=0",
        `while [ ! -s ${pidFile} ]; do`,
        "    tries=$((tries + 1))",
        `    if [ "$tries" -ge ${START_WAIT_SECONDS * 10} ]; then echo "nginx is not running in the router: no ${pidFile} after ${START_WAIT_SECONDS} s; see the container's log" >&2; exit 1; fi`,
        "    sleep 0.1",
        "done",
        `master=$(cat ${pidFile})`,
        // The master's children, from /proc: nothing but sh and cat is needed in the image.
        `workers() { for stat in /proc/[0-9]*/stat; do read -r pid _ _ ppid _ 2>/dev/null < "$stat" && [ "$ppid" = "$master" ] && echo "$pid"; done; return 0; }`,
        "old=$(workers)",
        "nginx -s reload",
        "tries=0",
        "while :; do",
        `    left=""; for pid in $old; do [ -d "/proc/$pid" ] && left="$left $pid"; done`,
        `    [ -z "$left" ] && exit 0`,
        "    tries=$((tries + 1))",
        `    if [ "$tries" -ge ${tenths} ]; then echo "nginx still runs workers of its previous config after ${RELOAD_WAIT_SECONDS} s (pids$left): it did not apply the new one, or a request holds them; see the container's log" >&2; exit 1; fi`,
        "    sleep 0.1",
        "done",
    ].join("\n");
}

/**
 * The `sh` script that installs the config it reads on stdin in the running container
 * `container` and reloads nginx there, returning once only the new config answers; a config
 * nginx refuses fails it, before the move, and the router keeps serving the config it has.
 *
 * The reload is `nginx -s reload` in the container, not `docker kill -s HUP`: Docker marks a
 * container it sent any signal to as stopped by hand (moby's daemon/kill.go), so a router that
 * crashed after a step would not come back under `restart: unless-stopped`; and it does not
 * depend on nginx being the container's first process.
 */
export function routerReloadScript(container: string): string {
    const router = shellQuote(container);
    const next = shellQuote(NEXT_CONF_PATH);
    return [
        "set -eu",
        // The config files are root's (the upload at creation); nginx runs as the image's nginx user.
        `docker exec -i -u 0 ${router} sh -c ${shellQuote(`cat > ${NEXT_CONF_PATH}`)}`,
        // Tested as nginx will read it: in the container, as its user.
        `if ! docker exec ${router} nginx -t -q -c ${next}; then`,
        `    docker exec -u 0 ${router} rm -f ${next}`,
        `    echo ${shellQuote(`nginx refused the new config of ${container}; it keeps serving its current one`)} >&2`,
        "    exit 1",
        "fi",
        `docker exec -u 0 ${router} mv ${next} ${shellQuote(NGINX_CONF_PATH)}`,
        `docker exec ${router} sh -c ${shellQuote(reloadAndWait(nginxPidFile()))}`,
    ].join("\n");
}
