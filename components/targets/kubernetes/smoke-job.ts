/**
 * The smoke gate inside a cluster: a Job that runs the track's own image (it has Node.js) against
 * the track's Service: readiness, the recorded inference (version and output range), and the
 * legacy route's deprecation headers. The provider waits for the Job, so a failed smoke test
 * stops the update before the router changes.
 */
import { createHash } from "crypto";
import type { GateSpec } from "../../gates/plan";
import { environmentLabels, LABEL, labelValue, physicalName, trackName } from "../../naming";
import { podSecurityContext, restrictedContainerSecurityContext, RUN_AS_USER } from "./workload";

export interface SmokeCheck {
    url: string;
    model: string;
    version: string;
    /** The recorded Open Inference Protocol request, as JSON text. */
    request: string;
    min: number;
    max: number;
    timeoutMs: number;
}

/** A self-contained Node.js program (no packages): exits 0 when every check passes, 1 naming the first that fails. */
export function smokeScript(check: SmokeCheck): string {
    return [
        `const c=${JSON.stringify(check)};const deadline=Date.now()+c.timeoutMs;const sleep=(ms)=>new Promise((r)=>setTimeout(r,ms));`,
        `const fail=(m)=>{console.error("smoke: FAILED "+m);process.exit(1)};`,
        `const req=(p,o)=>fetch(c.url+p,{...o,signal:AbortSignal.timeout(10000)});`,
        `(async()=>{let last="no answer";for(;;){try{const r=await req("/v2/health/ready");if(r.ok)break;last="status "+r.status}catch(e){last=String(e.message||e)}`,
        `if(Date.now()>deadline)fail("ready: "+c.url+" not ready within "+c.timeoutMs+" ms ("+last+")");await sleep(1000)}`,
        `console.log("smoke: ready");const body=JSON.parse(c.request);`,
        `const r=await req("/v2/models/"+c.model+"/infer",{method:"POST",headers:{"content-type":"application/json"},body:c.request});`,
        `const a=await r.json().catch(()=>({}));if(r.status!==200)fail("infer: status "+r.status+" "+JSON.stringify(a));`,
        `if(a.model_version!==c.version)fail("version: answered "+a.model_version+", expected "+c.version);`,
        `const out=(a.outputs||[]).flatMap((o)=>o.data||[]);if(out.length===0||out.some((v)=>!(v>=c.min&&v<=c.max)))fail("infer: outputs "+JSON.stringify(out)+" outside "+c.min+".."+c.max);`,
        `console.log("smoke: infer ok "+JSON.stringify(out));const t=body.inputs[0];const n=t.shape[1];const flat=t.data.flat(Infinity);`,
        `const rows=[];for(let i=0;i<flat.length;i+=n)rows.push(flat.slice(i,i+n));`,
        `const v1=await req("/v1/models/"+c.model+":predict",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({instances:rows})});`,
        `if(v1.status!==200||!v1.headers.get("deprecation")||!v1.headers.get("sunset"))fail("v1: status "+v1.status+", Deprecation "+v1.headers.get("deprecation")+", Sunset "+v1.headers.get("sunset"));`,
        `console.log("smoke: passed")})().catch((e)=>fail("error: "+(e.message||e)));`,
    ].join("");
}

export interface SmokeJobArgs {
    environment: string;
    namespace: string;
    spec: GateSpec;
    model: string;
    image: string;
    check: SmokeCheck;
    retries: number;
    timeoutSeconds: number;
    /** What re-runs the gate: a change makes a new Job (Jobs are immutable). */
    triggers: readonly string[];
}

export function smokeJobName(model: string, spec: GateSpec, triggers: readonly string[], image: string): string {
    const hash = createHash("sha256").update(JSON.stringify([...triggers, image])).digest("hex").slice(0, 8);
    return physicalName("kubernetes-dns-label", [trackName(model, spec.track), "smoke", hash]);
}

export function smokeJobObject(args: SmokeJobArgs) {
    const labels = { ...environmentLabels(args.environment), [LABEL.name]: args.model, [LABEL.track]: args.spec.track, [LABEL.version]: labelValue(args.spec.version), [LABEL.component]: "smoke-gate" };
    return {
        metadata: { name: smokeJobName(args.model, args.spec, args.triggers, args.image), namespace: args.namespace, labels },
        spec: {
            backoffLimit: args.retries,
            activeDeadlineSeconds: args.timeoutSeconds,
            ttlSecondsAfterFinished: 3600,
            template: {
                metadata: { labels },
                spec: {
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    securityContext: podSecurityContext(RUN_AS_USER),
                    containers: [
                        {
                            name: "smoke",
                            image: args.image,
                            command: ["node", "-e", smokeScript(args.check)],
                            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                            securityContext: restrictedContainerSecurityContext,
                        },
                    ],
                },
            },
        },
    };
}
