"""The token-level error model: P(token lies inside a translation error).

A small head over what one LM pass already computes for each token (see
:class:`garble.lm.TokenStream`): the token's last hidden state, its
surprisal, the entropy of the distribution it was drawn from, its rank in
that distribution, and the surprisal of the tokens beside it (an error often
shows in the word *after* it: a dropped word makes its neighbour unlikely).
The head is a standardised logistic regression or a one-hidden-layer MLP,
trained by ``scripts/train_tagger.py`` on MQM error spans and synthetic
corruptions with exact spans. It belongs to one LM (its hidden states): the
packaged head is for SmolLM2-135M-Instruct and is stored in
``data/tagger_<model>.npz`` with a JSON card beside it (training data, date,
metrics, the LM). Another LM gets no head: garble then ranks with its
surprisal features alone and warns once.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from .errors import UsageError

#: the scalar features beside the hidden state, in the order of the matrix's first columns
SCALAR_FEATURES = (
    "surprisal",
    "entropy",
    "log_rank",
    "surprisal_minus_entropy",
    "next_surprisal",
    "prev_surprisal",
    "next_entropy",
    "next_log_rank",
)


def token_matrix(surprisal, entropy, rank, hidden=None):
    """The head's input for each token: the scalar features, then the hidden state.

    ``surprisal``/``entropy``/``rank`` have one entry more than there are
    tokens (the newline read after the text), so the last token has a
    neighbour; ``hidden`` has at least as many rows as there are tokens.
    Returns an ``(n_tokens, len(SCALAR_FEATURES) + d)`` float32 matrix.
    """
    import numpy as np

    s = np.asarray(surprisal, np.float32)
    e = np.asarray(entropy, np.float32)
    r = np.log1p(np.asarray(rank, np.float32))
    n = len(s) - 1
    if n <= 0:
        d = 0 if hidden is None else np.asarray(hidden).shape[1]
        return np.zeros((0, len(SCALAR_FEATURES) + d), np.float32)
    prev = np.concatenate([[s[:n].mean()], s[: n - 1]]).astype(np.float32)
    cols = [s[:n], e[:n], r[:n], s[:n] - e[:n], s[1 : n + 1], prev, e[1 : n + 1], r[1 : n + 1]]
    x = np.stack(cols, 1)
    if hidden is not None:
        x = np.concatenate([x, np.asarray(hidden, np.float32)[:n]], 1)
    return x


def stream_matrix(stream, hidden=None):
    """:func:`token_matrix` of a :class:`garble.lm.TokenStream` (its newline's readings appended; ``hidden``
    instead of ``stream.hidden`` when given)."""
    import numpy as np

    return token_matrix(
        np.append(stream.surprisal, stream.end_surprisal),
        np.append(stream.entropy, stream.end_entropy),
        np.append(stream.rank, stream.end_rank),
        stream.hidden if hidden is None else hidden,
    )


@dataclass
class Tagger:
    """A trained head: ``p = sigmoid(MLP((x - mean) / std))`` over :func:`token_matrix` rows."""

    mean: Any
    std: Any
    layers: list  # [(W, b), ...]: ReLU between layers, sigmoid after the last
    card: dict = field(default_factory=dict)

    @property
    def hidden_size(self) -> int:
        return int(self.mean.shape[0]) - len(SCALAR_FEATURES)

    def predict(self, x, *, overwrite: bool = False):
        """P(error) for each row of a :func:`token_matrix`.

        ``overwrite``: ``x`` is a float32 matrix its caller no longer needs, standardised in place (the same
        numbers; a document's matrix is large, about 0.5 GB per MB of text, and two copies of it are spared).
        """
        import numpy as np

        x = np.asarray(x, np.float32)
        if overwrite:
            z = x
            z -= self.mean
            z /= self.std
        else:
            z = (x - self.mean) / self.std
        for k, (w, b) in enumerate(self.layers):
            z = z @ w + b
            if k < len(self.layers) - 1:
                z = np.maximum(z, 0.0)
        z = z[:, 0]
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)

    def predict_tokens(self, surprisal, entropy, rank, hidden):
        return self.predict(token_matrix(surprisal, entropy, rank, hidden), overwrite=True)

    def save(self, path: Union[str, Path]) -> None:
        """Write ``path`` (.npz) and its card (the same name, .json)."""
        import numpy as np

        path = Path(path)
        arrays = {"mean": self.mean, "std": self.std}
        for k, (w, b) in enumerate(self.layers):
            arrays[f"w{k}"] = w.astype(np.float32)
            arrays[f"b{k}"] = b.astype(np.float32)
        np.savez_compressed(path, **arrays)
        path.with_suffix(".json").write_text(
            json.dumps(self.card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Tagger":
        import numpy as np

        path = Path(path)
        try:
            with np.load(path) as z:
                layers = []
                k = 0
                while f"w{k}" in z:
                    layers.append((z[f"w{k}"].astype(np.float32), z[f"b{k}"].astype(np.float32)))
                    k += 1
                mean, std = z["mean"].astype(np.float32), z["std"].astype(np.float32)
        except (OSError, ValueError, KeyError) as e:
            raise UsageError(f"cannot read the error-model head: {e}", path=str(path)) from e
        if not layers:
            raise UsageError("the error-model head has no layers", path=str(path))
        card_path = path.with_suffix(".json")
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
        return cls(mean, np.where(std > 0, std, 1.0).astype(np.float32), layers, card)


def packaged_head(model_name: str) -> Optional[Path]:
    """The packaged head for ``model_name`` (``data/tagger_<name>.npz``), if there is one."""
    from importlib import resources

    name = Path(model_name).name
    p = resources.files("garble.data").joinpath(f"tagger_{name}.npz")
    try:
        return Path(str(p)) if p.is_file() else None
    except (OSError, TypeError):
        return None


def load_tagger(spec, lm) -> Optional[Tagger]:
    """The head a :class:`garble.lm.LanguageModel` uses.

    ``spec``: ``None`` (the packaged head for the LM, when there is one),
    ``False`` (none), a path to a head (.npz), or a :class:`Tagger`. A head
    whose hidden size does not match the LM's is refused.
    """
    if spec is False:
        return None
    if isinstance(spec, Tagger):
        tagger = spec
    elif spec is None or spec is True:
        path = packaged_head(lm.name)
        if path is None:
            warnings.warn(
                f"no error-model head for model {lm.name!r}: garble ranks with its surprisal features alone "
                "(train one with scripts/train_tagger.py --model ...)",
                stacklevel=3,
            )
            return None
        tagger = Tagger.load(path)
    else:
        tagger = Tagger.load(spec)
    size = getattr(getattr(lm, "model", None), "config", None)
    size = getattr(size, "hidden_size", None)
    if size is not None and tagger.hidden_size != size:
        raise UsageError(f"the error-model head expects hidden size {tagger.hidden_size}, model {lm.name!r} has {size}")
    return tagger
