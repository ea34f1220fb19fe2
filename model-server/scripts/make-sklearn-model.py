"""Makes fraud-scorer for MLServer's scikit-learn runtime (model-server/mlserver/): the same
logistic regression as scripts/make-onnx-model.py (fraud-scorer 2.0.0), trained on the same
generated data (same seed, rows and ground truth), kept as the scikit-learn object instead of being
converted to ONNX. Writes into the given directory, the layout MLServer reads (one folder per
model version, found by its model-settings.json):

    <out>/model.joblib          the fitted LogisticRegression, joblib.dump (a pickle: loading it runs code,
                                so a server must trust this file as it trusts its own image)
    <out>/model.joblib.sha256   its SHA-256, sha256sum format, as model.json.sha256 is for the project's server
    <out>/model-settings.json   model-server/mlserver/model-settings.json with parameters.version = the version
                                and versions = the scikit-learn that trained it

The same pinned requirements as the ONNX script (the server image pins the same scikit-learn, numpy
and joblib: a pickle is read by the scikit-learn that wrote it), so the same bytes every run:

    python3 -m venv .venv && .venv/bin/pip install -r scripts/onnx-model-requirements.txt
    .venv/bin/python scripts/make-sklearn-model.py --out /tmp/models/fraud-scorer/2.0.0 [--version 2.0.0]
"""
import argparse
import hashlib
import json
import pathlib

import joblib
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

# Exactly make-onnx-model.py's: the two tracks must be trained on the same rows to score alike.
FEATURES = ["amount_zscore", "merchant_risk", "hour_sin", "velocity"]
TRUE_WEIGHTS = np.array([0.9, 1.5, -0.3, 0.8])
TRUE_BIAS = -0.4
ROWS = 5000
SEED = 20261203

SETTINGS_TEMPLATE = pathlib.Path(__file__).resolve().parent.parent / "mlserver" / "model-settings.json"


def train() -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    """make-onnx-model.py's data and fit, step for step (the same calls on the generator, in the same order)."""
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(ROWS, len(FEATURES))).astype(np.float32)
    p = 1 / (1 + np.exp(-(x @ TRUE_WEIGHTS + TRUE_BIAS)))
    y = (rng.random(ROWS) < p).astype(np.int64)
    return LogisticRegression().fit(x, y), x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the version's directory, e.g. /models/fraud-scorer/2.0.0")
    parser.add_argument("--version", help="the version MLServer reports (default: the directory's name)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    version = args.version or out.name

    model, x, y = train()
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.joblib"
    # Uncompressed: a plain pickle with the arrays inline, the same bytes for the same fit.
    joblib.dump(model, model_path, compress=0)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    (out / "model.joblib.sha256").write_text(f"{digest}  model.joblib\n")

    settings = json.loads(SETTINGS_TEMPLATE.read_text())
    settings.setdefault("parameters", {})["version"] = version
    # MLServer's `versions` are the training libraries' (its metadata answer lists them), not the model's.
    settings["versions"] = [f"scikit-learn/{sklearn.__version__}"]
    (out / "model-settings.json").write_text(json.dumps(settings, indent=2) + "\n")

    coef = ", ".join(f"{w:.6f}" for w in model.coef_[0])
    print(
        f"wrote {model_path} ({model_path.stat().st_size} bytes, sha256 {digest}), model.joblib.sha256 and "
        f"model-settings.json (fraud-scorer {version}); scikit-learn {sklearn.__version__}, joblib {joblib.__version__}; "
        f"weights [{coef}], bias {model.intercept_[0]:.6f}; training accuracy {model.score(x, y):.3f}"
    )


if __name__ == "__main__":
    main()
