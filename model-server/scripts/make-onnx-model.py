"""Makes an example ONNX model: fraud-scorer 2.0.0, a scikit-learn logistic regression trained on
data this script generates (a fixed seed: the same file every run with the pinned requirements),
converted with skl2onnx, and written with its manifest (model.json, "modelship-onnx/v1") and the
manifest's checksum into models/fraud-scorer/2.0.0/.

    python3 -m venv .venv && .venv/bin/pip install -r scripts/onnx-model-requirements.txt
    .venv/bin/python scripts/make-onnx-model.py [--out models/fraud-scorer/2.0.0]
"""
import argparse
import hashlib
import json
import pathlib

import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression

FEATURES = ["amount_zscore", "merchant_risk", "hour_sin", "velocity"]
# The ground truth the synthetic labels are drawn from: close to the JSON versions' weights.
TRUE_WEIGHTS = np.array([0.9, 1.5, -0.3, 0.8])
TRUE_BIAS = -0.4
ROWS = 5000
SEED = 20261203


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent / "models" / "fraud-scorer" / "2.0.0"))
    out = pathlib.Path(parser.parse_args().out)
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(ROWS, len(FEATURES))).astype(np.float32)
    p = 1 / (1 + np.exp(-(x @ TRUE_WEIGHTS + TRUE_BIAS)))
    y = (rng.random(ROWS) < p).astype(np.int64)
    model = LogisticRegression().fit(x, y)
    onx = to_onnx(
        model,
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        # Probabilities as a [rows, 2] tensor, not a list of maps: the server answers tensors.
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onnx_bytes = onx.SerializeToString()
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    manifest = {
        "format": "modelship-onnx/v1",
        "name": "fraud-scorer",
        "version": out.name,
        "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "score": {"output": "probabilities", "column": 1},
        "featureNames": FEATURES,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    (out / "model.json").write_text(text)
    (out / "model.json.sha256").write_text(f"{hashlib.sha256(text.encode()).hexdigest()}  model.json\n")
    accuracy = model.score(x, y)
    print(f"wrote {out}/model.onnx ({len(onnx_bytes)} bytes), model.json and model.json.sha256; training accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
