"""The moto side of scripts/s3-store.sh (run it through that script, not directly).

  s3-store.py serve --host H --port P     moto's server, IAM access control on from the first request
  s3-store.py admin --endpoint URL        creates the admin identity; prints AWS_ACCESS_KEY_ID=... lines
  s3-store.py seed --endpoint URL ...     bucket, the model versions, a role per model (admin credentials from the environment)

moto 5.2.1 with access control on (INITIAL_NO_AUTH_ACTION_COUNT) checks every request's signature,
AssumeRoleWithWebIdentity included, which AWS serves unsigned (the caller has no credentials yet:
the token is its proof), so the SDK's web identity chain could never get credentials. `serve`
exempts that one action from the signature check, as AWS does. moto does not verify the token or
evaluate the role's trust policy: the trust is proven by the IAM contract tests, the role's
permissions here.
"""
import argparse
import hashlib
import json
import os
import sys
import urllib.request


def serve(args):
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import main

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_unless_web_identity(self, iam_request_cls, resource="*"):
        if self._get_action() == "AssumeRoleWithWebIdentity":
            return None
        return authenticate(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_unless_web_identity
    main(["--host", args.host, "--port", str(args.port)])


def reset_auth(endpoint, unauthenticated_requests):
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=str(unauthenticated_requests).encode(), method="POST")
    # moto reads the raw body; a form content type would have Flask consume it.
    request.add_header("Content-Type", "text/plain")
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


ADMIN_USER = "modelship-store-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def admin(args):
    """The server starts with access control on and nobody in IAM. reset-auth lets exactly the next
    three requests through unchecked (user, policy, key), then access control is switched on again
    whatever happened; the new key must then work and a made-up one must not."""
    import boto3
    from botocore.exceptions import ClientError

    def client(service, key_id="unused", secret="unused"):
        return boto3.client(service, endpoint_url=args.endpoint, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret)

    reset_auth(args.endpoint, 3)
    try:
        iam = client("iam")
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(UserName=ADMIN_USER, PolicyName="admin", PolicyDocument=json.dumps(ADMIN_POLICY))
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    finally:
        reset_auth(args.endpoint, 0)
    identity = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    if not identity["Arn"].endswith(f":user/{ADMIN_USER}"):
        sys.exit(f"s3-store: the admin key answers as {identity['Arn']}, not {ADMIN_USER}")
    try:
        client("sts", "AKIAMADEUPMADEUP0000", "nope").get_caller_identity()
        sys.exit("s3-store: a made-up key was accepted: IAM access control is not on")
    except ClientError:
        pass
    print(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
    print(f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")


FORBID_POLICY = "modelship-test-forbid"


def model_versions(models_dir):
    """{model: {version: directory}} for every <model>/<version>/model.json under models_dir."""
    found = {}
    for model in sorted(os.listdir(models_dir)):
        model_dir = os.path.join(models_dir, model)
        if not os.path.isdir(model_dir):
            continue
        versions = {v: os.path.join(model_dir, v) for v in sorted(os.listdir(model_dir)) if os.path.isfile(os.path.join(model_dir, v, "model.json"))}
        if versions:
            found[model] = versions
    return found


def model_version(text):
    model, sep, version = text.partition("/")
    if not sep or not model or not version:
        raise argparse.ArgumentTypeError(f"{text!r} is not <model>/<version>")
    return model, version


def seed(args):
    import boto3

    roles = json.load(sys.stdin)
    versions = model_versions(args.models)
    session = boto3.session.Session(region_name=args.region)
    s3 = session.client("s3", endpoint_url=args.endpoint)
    iam = session.client("iam", endpoint_url=args.endpoint)
    for model, _ in args.corrupt + args.forbid:
        if model not in versions:
            sys.exit(f"s3-store: no model {model!r} under {args.models} (there are: {', '.join(versions)})")

    buckets = {role["artifact"][len("s3://"):].split("/", 1)[0] for role in roles}
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in sorted(buckets - existing):
        s3.create_bucket(Bucket=bucket)

    def put(artifact, version, body, checksum):
        bucket, prefix = artifact[len("s3://"):].split("/", 1)
        s3.put_object(Bucket=bucket, Key=f"{prefix}{version}/model.json", Body=body)
        s3.put_object(Bucket=bucket, Key=f"{prefix}{version}/model.json.sha256", Body=checksum)

    def files(model, version):
        """A shipped version's files; a version that is not shipped is a copy of the model's last one."""
        directory = versions[model].get(version) or versions[model][sorted(versions[model])[-1]]
        with open(os.path.join(directory, "model.json"), "rb") as f:
            body = f.read()
        checksum_file = os.path.join(directory, "model.json.sha256")
        if os.path.isfile(checksum_file):
            with open(checksum_file, "rb") as f:
                return body, f.read()
        return body, f"{hashlib.sha256(body).hexdigest()}  model.json\n".encode()

    def put_listed(artifact, directory, version):
        """The files beside model.json (an ONNX model's file, another server's version), under the same relative keys."""
        bucket, prefix = artifact[len("s3://"):].split("/", 1)
        for root, _, names in os.walk(directory):
            for name in sorted(names):
                relative = os.path.relpath(os.path.join(root, name), directory).replace(os.sep, "/")
                if relative not in ("model.json", "model.json.sha256"):
                    s3.upload_file(os.path.join(root, name), bucket, f"{prefix}{version}/{relative}")

    for role in roles:
        model = role["model"]
        for version, directory in versions.get(model, {}).items():
            put(role["artifact"], version, *files(model, version))
            put_listed(role["artifact"], directory, version)
        for corrupt_model, version in args.corrupt:
            if corrupt_model == model:
                body, checksum = files(model, version)
                # One more byte: the recorded checksum no longer matches what is served.
                put(role["artifact"], version, body + b"\n", checksum)
        for forbid_model, version in args.forbid:
            if forbid_model == model and version not in versions[model]:
                put(role["artifact"], version, *files(model, version))

        name = role["roleName"]
        try:
            iam.get_role(RoleName=name)
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(role["trustPolicy"]))
        except iam.exceptions.NoSuchEntityException:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(role["trustPolicy"]))
        iam.put_role_policy(RoleName=name, PolicyName=f"{model}-runtime", PolicyDocument=json.dumps(role["runtimePolicy"]))
        bucket, prefix = role["artifact"][len("s3://"):].split("/", 1)
        forbidden = [f"arn:aws:s3:::{bucket}/{prefix}{version}/*" for m, version in args.forbid if m == model]
        if forbidden:
            # The role's own policy stays as the project renders it; an explicit Deny beside it wins.
            deny = {"Version": "2012-10-17", "Statement": [{"Sid": "ForbidVersions", "Effect": "Deny", "Action": "s3:GetObject", "Resource": forbidden}]}
            iam.put_role_policy(RoleName=name, PolicyName=FORBID_POLICY, PolicyDocument=json.dumps(deny))
        elif FORBID_POLICY in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=FORBID_POLICY)
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        print(f"{model} {role['artifact']} {arn}")


def main():
    parser = argparse.ArgumentParser(prog="s3-store.py")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("serve")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.set_defaults(run=serve)
    p = commands.add_parser("admin")
    p.add_argument("--endpoint", required=True)
    p.set_defaults(run=admin)
    p = commands.add_parser("seed")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--models", required=True)
    p.add_argument("--corrupt", type=model_version, action="append", default=[])
    p.add_argument("--forbid", type=model_version, action="append", default=[])
    p.set_defaults(run=seed)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
