/**
 * Waiting for another server's replicas from this machine. Docker waits only on a HEALTHCHECK,
 * which many server images do not have (MLServer's and Triton's official ones included) and
 * which needs a probe program inside the image; the server's own readiness route, asked on each
 * replica's loopback port, needs neither.
 */

/** Time between two asks of one replica. */
export const READINESS_POLL_MS = 1000;

/**
 * A Node.js program (the machine running the update has Node.js) that asks each URL until it
 * answers 2xx, and fails naming the URL and its last answer once `timeoutSeconds` have passed.
 * Each ask times out after 3 s, so the loop is bounded by the deadline.
 */
export function readinessWaitScript(urls: readonly string[], timeoutSeconds: number): string {
    return [
        `const urls=${JSON.stringify(urls)};const deadline=Date.now()+${timeoutSeconds * 1000};`,
        `const ask=(u)=>fetch(u,{signal:AbortSignal.timeout(3000)}).then((r)=>r.ok?"":"HTTP "+r.status,(e)=>String(e.cause?.code??e.message));`,
        `(async()=>{for(const u of urls){let last=await ask(u);while(last!==""){`,
        `if(Date.now()>deadline){console.error(u+" is not ready after ${timeoutSeconds} s (last answer: "+last+")");process.exit(1)}`,
        `await new Promise((r)=>setTimeout(r,${READINESS_POLL_MS}));last=await ask(u)}console.log(u+" is ready")}})();`,
    ].join("");
}
