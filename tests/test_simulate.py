"""The simulated downloads: true layout, random values, and used only behind both locks."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from gle_utils import backbones, downloads, scene, simulate


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A Keras home holding both simulated files, declared only (a few kB: same layers and shapes)."""
    home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv(downloads.SIMULATION_SWITCH, raising=False)
    simulate.write_online_weights(home, fill=False)
    return home


def test_kernels_are_glorot_uniform_and_biases_zero(tmp_path):
    path = simulate.write_keras2_file(tmp_path / "w.h5", ["dense", "dense/relu"], {"dense": [(600, 40), (40,)]},
                                      rng=np.random.default_rng(0), mark=True)
    with h5py.File(path, "r") as h5file:
        kernel, bias = h5file["dense/dense/kernel:0"][...], h5file["dense/dense/bias:0"][...]
        assert list(h5file["dense/relu"].attrs["weight_names"]) == []
    limit = np.sqrt(6 / (600 + 40))
    assert np.abs(kernel).max() <= limit and kernel.std() > 0.5 * limit / np.sqrt(3)
    assert not bias.any()
    assert downloads.is_simulated(path) and not downloads.is_simulated(tmp_path / "absent.h5")


def test_the_files_land_where_the_downloads_do_with_the_real_layers(keras_home):
    vggface = keras_home / "models" / "vggface" / backbones.VGGFACE_FILES[True]
    imagenet = keras_home / "models" / scene.VGG16_NOTOP_FILE
    with h5py.File(vggface, "r") as h5file:
        assert h5file["fc6/fc6/kernel:0"].shape == (7 * 7 * 512, 4096)
    with h5py.File(imagenet, "r") as h5file:
        shapes = [h5file[f"{name}/{name}/kernel:0"].shape for name in map(bytes.decode, h5file.attrs["layer_names"])]
    assert shapes == [kernel for _, (kernel, _) in backbones.vggface_weight_shapes(include_top=False)]
    assert not list(keras_home.rglob("*.tmp"))  # written atomically


def test_without_the_switch_a_simulated_file_is_refused_and_auto_falls_back(keras_home, capsys):
    with pytest.raises(backbones.WeightsMismatch, match="RANDOM weights written by gle_utils.simulate"):
        backbones.get_backbone("vggface")
    assert backbones.get_backbone("auto").name == "faceid-resnet"
    assert scene.imagenet_vgg16_weights() is None
    assert "not the file Keras publishes" in capsys.readouterr().out


def test_with_the_switch_every_online_path_is_taken_and_says_random(keras_home, monkeypatch, capsys):
    monkeypatch.setenv(downloads.SIMULATION_SWITCH, "1")
    vggface = keras_home / "models" / "vggface" / backbones.VGGFACE_FILES[True]
    assert backbones.vggface_weights_path(include_top=True) == vggface  # found where keras-vggface keeps it
    net = backbones.get_backbone("auto")
    assert net.name == "vggface" and net.weights_note.startswith("RANDOM")
    assert "-simulated-" in net.cache_key  # never the cache of the real file, whose name and size it shares
    assert scene.imagenet_vgg16_weights() == keras_home / "models" / scene.VGG16_NOTOP_FILE
    assert "RANDOM" in scene.whole_image_model("auto").name
    out = capsys.readouterr().out
    assert out.count("RANDOM weights") == 2 and str(keras_home) not in out


def test_keras_itself_loads_the_simulated_imagenet_file(tmp_path, monkeypatch):
    home = tmp_path / "keras"
    path = simulate.write_imagenet_file(home, rng=np.random.default_rng(0))
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv(downloads.SIMULATION_SWITCH, "1")
    model = scene.whole_image_model("auto", image_size=32).build()  # keras.applications.VGG16(weights=path)
    with h5py.File(path, "r") as h5file:
        np.testing.assert_array_equal(model.get_layer("block5_conv3").get_weights()[0],
                                      h5file["block5_conv3/block5_conv3/kernel:0"][...])


def test_environment_keeps_everything_under_its_root(tmp_path, monkeypatch):
    monkeypatch.setattr(simulate, "write_online_weights", lambda home: (home / "written").touch())
    settings = simulate.environment(tmp_path / "sim", cache_from=tmp_path / "user_cache")
    assert settings[downloads.SIMULATION_SWITCH] == "1"
    assert all(value.startswith(str(tmp_path / "sim")) for name, value in settings.items()
               if name != downloads.SIMULATION_SWITCH)
    assert (Path(settings["KERAS_HOME"]) / "written").exists()
    bare = simulate.environment(tmp_path / "bare", cache_from=tmp_path / "user_cache", weights=False)
    assert list(Path(bare["KERAS_HOME"]).iterdir()) == []  # a fresh Binder: no online weights
