"""core.average: the weight mean by hand, refusals, and an averaged run finished like a trained one."""
import json
import os

import numpy as np
import pytest

from core import average, train


def test_weight_mean_by_hand():
    a = [np.array([1.0, 2.0]), np.array([[3.0]])]
    b = [np.array([3.0, 6.0]), np.array([[5.0]])]
    out = average.average_weight_lists([a, b])
    assert np.array_equal(out[0], [2.0, 4.0]) and np.array_equal(out[1], [[4.0]])
    assert out[0].dtype == np.float32


def test_weights_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="architecture"):
        average.average_weight_lists([[np.zeros(2)], [np.zeros(3)]])
    with pytest.raises(ValueError, match="at least two"):
        average.average_weight_lists([[np.zeros(2)]])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from tests.conftest import write_busi_folder

    base = tmp_path_factory.mktemp("avg")
    data = write_busi_folder(base / "Dataset_BUSI_with_GT", n_per_class=4, size=(40, 48))
    runs = []
    for seed in (1, 2):
        out = str(base / f"run{seed}")
        assert train.main(["--data", data, "--out", out, "--epochs", "1", "--image-size", "32", "--base-filters", "4",
                           "--depth", "2", "--batch-size", "4", "--seed", str(seed)]
                          # the second run starts from the first one's initial weights, as a soup needs
                          + (["--split-from", str(base / "run1" / "split.json"), "--init-seed", "1"]
                             if seed == 2 else [])) == 0
        runs.append(out)
    return base, data, runs


def test_averaged_run_holds_the_mean_and_a_card(two_runs):
    import keras

    base, data, runs = two_runs
    out = str(base / "avg")
    assert average.main([*runs, "--out", out, "--name", "soup"]) == 0
    w = [keras.models.load_model(os.path.join(r, "model.keras"), compile=False).get_weights() for r in runs]
    got = keras.models.load_model(os.path.join(out, "model.keras"), compile=False).get_weights()
    for j in (0, len(got) // 2, len(got) - 1):
        assert np.allclose(got[j], (w[0][j] + w[1][j]) / 2, atol=1e-6)
    card = json.load(open(os.path.join(out, "model.card.json")))
    assert [s["seed"] for s in card["training"]["averaged_from"]] == [1, 2]
    assert card["test_metrics"]["n_images"] == len(json.load(open(os.path.join(runs[0], "split.json")))["split"]["test"])
    assert card["command"].startswith("python -m core.average")
    md = open(os.path.join(out, "model.card.md")).read()
    assert "the mean of 2 runs' weights" in md and "Al-Dhabyani" in md
    assert json.load(open(os.path.join(out, "status.json")))["state"] == "done"


def test_runs_that_differ_are_refused(two_runs, capsys):
    base, data, runs = two_runs
    other = str(base / "wide")
    assert train.main(["--data", data, "--out", other, "--epochs", "1", "--image-size", "32", "--base-filters", "6",
                       "--depth", "2", "--batch-size", "4", "--split-from", os.path.join(runs[0], "split.json")]) == 0
    assert average.main([runs[0], other, "--out", str(base / "bad")]) == 2
    assert "base_filters" in capsys.readouterr().err
    assert not os.path.exists(base / "bad" / "model.keras")


def test_runs_from_different_random_starts_are_refused(two_runs, capsys):
    base, data, runs = two_runs
    other = str(base / "seed3")
    assert train.main(["--data", data, "--out", other, "--epochs", "1", "--image-size", "32", "--base-filters", "4",
                       "--depth", "2", "--batch-size", "4", "--seed", "3",
                       "--split-from", os.path.join(runs[0], "split.json")]) == 0
    assert average.main([runs[0], other, "--out", str(base / "bad3")]) == 2
    assert "starting weights" in capsys.readouterr().err
    assert not os.path.exists(base / "bad3" / "model.keras")


def test_starting_point_by_hand():
    assert average.starting_point({"seed": 2}) == ("seed", 2)
    assert average.starting_point({"seed": 2, "init_seed": 0}) == ("seed", 0)
    assert average.starting_point({"seed": 2, "init_seed": None}) == ("seed", 2)
    assert average.starting_point({"seed": 2, "init_seed": 5, "init_weights": "a.keras"}) == ("weights", "a.keras")


def test_init_seed_draws_the_initial_weights_and_seed_the_rest():
    import keras

    def settings(seed, init_seed=None):
        return train.TrainSettings(data="", out="", image_size=32, base_filters=4, depth=2, seed=seed,
                                   init_seed=init_seed)

    quiet = lambda *_: None  # noqa: E731
    a = train.fresh_model(settings(1), quiet).get_weights()
    b = train.fresh_model(settings(2, init_seed=1), quiet)
    after_b = np.random.rand()
    keras.utils.set_random_seed(2)
    assert after_b == np.random.rand()  # training randomness follows --seed, not --init-seed
    c = train.fresh_model(settings(2), quiet).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b.get_weights()))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_an_average_below_all_its_runs_is_flagged_by_hand():
    card = lambda dice, fit_on="train": {"val_metrics": {"dice_mean": dice}, "settings": {"fit_on": fit_on}}  # noqa: E731
    runs = [{"val_dice": 0.729}, {"val_dice": 0.722}]
    warning = average.worse_than_its_runs(card(0.694), runs)
    assert "0.694" in warning and "0.729, 0.722" in warning and "--init-weights" in warning
    assert average.worse_than_its_runs(card(0.722), runs) is None  # equal to the weaker run: not flagged
    assert average.worse_than_its_runs(card(0.60, "train+val"), runs) is None  # in-sample figures are not judged
    assert average.worse_than_its_runs(card(0.60), [{"val_dice": None}, {"val_dice": 0.7}]) is None
