"""Saving and loading a model's artifact, with its content hash and library versions.

XGBoost models (its scikit-learn estimators and its Booster) are saved in XGBoost's own
JSON format, and LightGBM Boosters in LightGBM's text format: data, never code.
scikit-learn estimators (and anything built of scikit-learn types, LightGBM's
scikit-learn estimators among them) are saved with ``skops``, which rebuilds an object
from a description instead of running code, and trusts only the types it found when
the artifact was saved. An object none of these can save is pickled, and **loading a
pickle runs code**: a pickle is loaded only after its bytes match the hash recorded in
the metastore when it was trained, and never from a version folder whose hash does not
match.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import xxhash

from steward.core.errors import BuildError, IntegrityError, StewardError
from steward.core.fingerprint import ml_library_versions

MODEL_DIR = "model"
INFO_FILE = "model.json"


@dataclass(frozen=True)
class Saved:
    flavor: str
    artifact: str  # file name inside model/
    artifact_hash: str
    trusted: tuple[str, ...]  # types skops loads (sklearn flavor)
    notes: tuple[str, ...] = ()


def file_hash(path: str) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _root_module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


# native formats: flavor -> (library, artifact file)
NATIVE = {"xgboost": ("xgboost", "model.xgboost.json"),
          "lightgbm": ("lightgbm", "model.lightgbm.txt")}
# the XGBoost classes an artifact may name (each has load_model)
_XGB_CLASSES = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier",
                "XGBRFRegressor", "Booster")


def native_flavor(estimator: Any) -> str | None:
    """The native flavor ``auto`` picks for ``estimator``, or None (skops, else pickle)."""
    root = _root_module(estimator)
    if root == "xgboost" and type(estimator).__name__ in _XGB_CLASSES:
        return "xgboost"
    if root == "lightgbm" and type(estimator).__name__ == "Booster":
        return "lightgbm"  # (its scikit-learn estimators go to skops, wrapper and all)
    return None


def _save_native(estimator: Any, folder: str, flavor: str, who: str) -> Saved:
    lib, name = NATIVE[flavor]
    cls = type(estimator).__name__
    path = os.path.join(folder, name)
    if flavor == "xgboost":
        if _root_module(estimator) != "xgboost" or cls not in _XGB_CLASSES:
            raise BuildError(f"{who}: flavor 'xgboost' saves XGBoost models; this is a "
                             f"{type(estimator).__module__}.{cls}; use flavor 'auto'")
        estimator.save_model(path)
    else:
        if _root_module(estimator) != "lightgbm" or cls != "Booster":
            raise BuildError(
                f"{who}: flavor 'lightgbm' saves a LightGBM Booster (what lightgbm.train "
                f"returns) in LightGBM's text format; this is a {type(estimator).__module__}"
                f".{cls}. LightGBM's scikit-learn estimators are saved with skops "
                "(flavor 'auto' or 'sklearn')")
        with open(path, "w") as f:
            f.write(estimator.model_to_string())
    return Saved(flavor, name, file_hash(path), (cls,))


def save(estimator: Any, folder: str, flavor: str, who: str) -> Saved:
    """Write ``estimator`` into ``folder`` (``<version>/model``) in ``flavor``
    (``auto``: the library's own format for XGBoost models and LightGBM Boosters, else
    skops when it can, else pickle)."""
    os.makedirs(folder, exist_ok=True)
    notes: list[str] = []
    if flavor == "auto":
        flavor = native_flavor(estimator) or "auto"
    if flavor in NATIVE:
        return _save_native(estimator, folder, flavor, who)
    if flavor in ("auto", "sklearn"):
        try:
            import skops.io as sio
        except ImportError:
            if flavor == "sklearn":
                raise BuildError(f"{who}: flavor 'sklearn' saves with skops, which is not "
                                 "installed; pip install 'datasteward[ml]'") from None
            notes.append("skops is not installed: pickled instead (pip install "
                         "'datasteward[ml]' to save it safely)")
        else:
            path = os.path.join(folder, "model.skops")
            try:
                data = sio.dumps(estimator)
                trusted = tuple(sorted(sio.get_untrusted_types(data=data)))
            except Exception as e:  # skops refuses a type it cannot describe
                if flavor == "sklearn":
                    raise BuildError(f"{who}: skops cannot save this model "
                                     f"({type(e).__name__}: {e}); set 'flavor: pickle' "
                                     "to pickle it instead (see docs/ml.md)") from None
                notes.append(f"skops cannot save it ({type(e).__name__}); pickled instead")
            else:
                with open(path, "wb") as f:
                    f.write(data)
                return Saved("sklearn", "model.skops", xxhash.xxh3_128_hexdigest(data),
                             trusted)
    import pickle

    path = os.path.join(folder, "model.pkl")
    try:
        with open(path, "wb") as f:
            pickle.dump(estimator, f, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        raise BuildError(f"{who}: the model cannot be pickled ({type(e).__name__}: {e}); "
                         "return an estimator that can be saved") from None
    return Saved("pickle", "model.pkl", file_hash(path), (), tuple(notes))


def _minor(v: str | None) -> tuple[str, ...]:
    return tuple((v or "").split(".")[:2])


def _release(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        digits = "".join(ch for ch in part if ch.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def check_libraries(recorded: dict[str, str | None], who: str, flavor: str = "sklearn"
                    ) -> None:
    """Refuse to load an artifact with libraries that may not read it faithfully.

    skops and pickle artifacts: another minor version of scikit-learn or skops than the
    one installed (their formats are not promised across them). XGBoost's and
    LightGBM's own formats are read by later versions of the same major version: an
    older version, or another major version, is refused.
    """
    now = ml_library_versions()
    if flavor in NATIVE:
        lib = NATIVE[flavor][0]
        then, have = recorded.get(lib), now.get(lib)
        if not have:
            raise StewardError(f"{who} was saved with {lib} {then or '(unknown version)'}, "
                               f"which is not installed; pip install {lib}")
        if then and (_release(have)[:1] != _release(then)[:1]
                     or _release(have) < _release(then)):
            raise StewardError(
                f"{who} was saved with {lib} {then}; this environment has {lib} {have}, "
                f"which may not read its format. Install {lib} {then} (or a later "
                f"{_release(then)[0]}.x) to use it, or retrain it here "
                "('steward reproduce' or 'steward run --full-refresh')")
        return
    for lib in ("scikit-learn", "skops"):
        then = recorded.get(lib)
        if then and now.get(lib) and _minor(then) != _minor(now[lib]):
            raise StewardError(
                f"{who} was saved with {lib} {then}; this environment has {lib} {now[lib]}, "
                "which may not load it faithfully. Install "
                f"{lib}=={'.'.join(_minor(then))}.* to use it, or retrain it here "
                "('steward reproduce' or 'steward run --full-refresh')")
        if then and not now.get(lib):
            raise StewardError(f"{who} was saved with {lib} {then}, which is not installed; "
                               "pip install 'datasteward[ml]'")


def load(folder: str, artifact: str, flavor: str, expected_hash: str,
         trusted: tuple[str, ...] | list[str], libraries: dict[str, str | None],
         who: str) -> Any:
    """The estimator in ``folder/artifact``, after its bytes match ``expected_hash`` (the
    metastore's record) and the libraries match those that saved it."""
    path = os.path.join(folder, artifact)
    if not os.path.exists(path):
        raise IntegrityError(f"{who}: its artifact {artifact} is missing from the version "
                             "folder; run 'steward verify', then rebuild the model")
    got = file_hash(path)
    if got != expected_hash:
        raise IntegrityError(
            f"{who}: its artifact {artifact} does not match the hash recorded when it was "
            f"trained ({got[:12]}... instead of {expected_hash[:12]}...): it was changed "
            "after publication and is not loaded. Rebuild the model "
            "('steward run --full-refresh <model>') or restore the file")
    check_libraries(libraries, who, flavor)
    if flavor == "xgboost":
        import xgboost

        cls = trusted[0] if trusted else "Booster"
        if cls not in _XGB_CLASSES:
            raise IntegrityError(f"{who}: its record names {cls!r}, not an XGBoost model")
        model = getattr(xgboost, cls)()
        model.load_model(path)
        return model
    if flavor == "lightgbm":
        import lightgbm

        with open(path) as f:
            return lightgbm.Booster(model_str=f.read())
    if flavor == "sklearn":
        import skops.io as sio

        return sio.load(path, trusted=list(trusted))
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 (hash checked above; see the module docstring)
