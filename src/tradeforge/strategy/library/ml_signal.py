"""Long/flat top-k portfolio on a scikit-learn model's predictions, retrained walk-forward.

The strategy keeps its own daily history of closes and volumes (a day is complete once every
instrument's bar for it has arrived). Every ``retrain_every`` days, once ``min_train_days`` exist, it
computes features and triple-barrier labels on that history (:mod:`tradeforge.research.ml`) and fits
the model on the events whose labels ended strictly before today (``embargo`` more days back): the
model used on a day never saw an outcome that was not known yet. Every ``rebalance_every`` days it
predicts P(profit-take first) for each instrument from today's feature row, holds the ``top_k``
instruments above ``threshold`` (``weight`` of equity each) and sells the rest; market orders fill at
the next bar's open.

Params:
    instruments: instrument ids (daily bars)
    features: :class:`FeatureConfig` fields; labels: :class:`LabelConfig` fields; model: :class:`ModelSpec`
    min_train_days (250), train_days (0: expanding window), retrain_every (21), embargo (0)
    rebalance_every (label horizon), top_k (2), threshold (0.5), weight (0.2)
    artifact_dir: if set, every fitted model is saved there with its data and parameter fingerprints
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradeforge.model.data import Bar
from tradeforge.model.enums import OrderSide
from tradeforge.research.ml.artifacts import fingerprint_arrays, fingerprint_params, save_model
from tradeforge.research.ml.dataset import build_dataset
from tradeforge.research.ml.features import FeatureConfig, compute_features
from tradeforge.research.ml.labels import LabelConfig, triple_barrier
from tradeforge.research.ml.model import ModelSpec, fit_model, up_probability
from tradeforge.strategy.base import Strategy


@dataclass(frozen=True, slots=True)
class Training:
    """One model fit: the day (ns) it was made for, its samples, the latest label end it used (ns),
    and its fingerprints."""

    day_ts: int
    n_samples: int
    last_label_end_ts: int
    data_fingerprint: str
    params_fingerprint: str


class MlSignal(Strategy):
    def on_start(self) -> None:
        p = self.params
        self.ids: list[str] = list(p.get("instruments", []))
        if not self.ids:
            raise ValueError(f"{self.id}: 'instruments' must be a non-empty list of instrument ids")
        self.fcfg = FeatureConfig.from_dict(p.get("features"))
        self.lcfg = LabelConfig.from_dict(p.get("labels"))
        self.spec = ModelSpec.from_dict(p.get("model"))
        self.min_train_days = int(p.get("min_train_days", 250))
        self.train_days = int(p.get("train_days", 0))
        self.retrain_every = int(p.get("retrain_every", 21))
        self.embargo = int(p.get("embargo", 0))
        self.rebalance_every = int(p.get("rebalance_every", self.lcfg.horizon))
        self.top_k = int(p.get("top_k", 2))
        self.threshold = float(p.get("threshold", 0.5))
        self.weight = Decimal(str(p.get("weight", "0.2")))
        self.artifact_dir = Path(p["artifact_dir"]) if p.get("artifact_dir") else None
        self.params_fp = fingerprint_params(self.model_params())
        self.col = {iid: j for j, iid in enumerate(self.ids)}
        self.dates: list[int] = []
        self.closes: list[list[float]] = []
        self.volumes: list[list[float]] = []
        self.last_raw: dict[str, int] = {}
        self._day: int | None = None
        self._today: dict[str, tuple[float, float]] = {}
        self.model: Any = None
        self._trained_at = -1
        self._rebalanced_at = -1
        self.trainings: list[Training] = []
        self.predictions: dict[int, dict[str, float]] = {}
        self.pending: set[str] = set()  # instruments with an open order
        self.selling: set[str] = set()
        self.committed: dict[str, int] = {}  # money raw an unfilled buy may still spend
        self.target: list[str] = []
        for iid in self.ids:
            self.instrument(iid)
            self.subscribe_bars(iid)

    def model_params(self) -> dict[str, Any]:
        """Everything that shapes a fitted model (hashed into its parameter fingerprint)."""
        return {"features": self.fcfg.to_dict(), "labels": self.lcfg.to_dict(), "model": self.spec.to_dict(),
                "instruments": self.ids, "train_days": self.train_days, "embargo": self.embargo}

    # -- daily history --
    def on_bar(self, bar: Bar) -> None:
        if self._day is not None and bar.ts_init != self._day:
            self._close_day()  # an instrument had no bar that day: close it with what arrived
        inst = self.instrument(bar.instrument_id)
        vol = bar.volume / 10.0**inst.size_precision if bar.volume >= 0 else float("nan")
        self._day = bar.ts_init
        self._today[bar.instrument_id] = (inst.price_to_float(bar.close), vol)
        self.last_raw[bar.instrument_id] = bar.close
        if len(self._today) == len(self.ids):
            self._close_day()

    def _close_day(self) -> None:
        assert self._day is not None
        prev_c = self.closes[-1] if self.closes else [float("nan")] * len(self.ids)
        prev_v = self.volumes[-1] if self.volumes else [float("nan")] * len(self.ids)
        today = self._today
        self.dates.append(self._day)
        self.closes.append([today[iid][0] if iid in today else prev_c[j] for j, iid in enumerate(self.ids)])
        self.volumes.append([today[iid][1] if iid in today else prev_v[j] for j, iid in enumerate(self.ids)])
        self._day, self._today = None, {}
        i = len(self.dates) - 1
        if i + 1 >= self.min_train_days and (self.model is None or i - self._trained_at >= self.retrain_every):
            self._train(i)
        if self.model is not None and (self._rebalanced_at < 0 or i - self._rebalanced_at >= self.rebalance_every):
            self._rebalance(i)
        if self.model is not None:
            self._buy_targets()

    # -- model --
    def _train(self, i: int) -> None:
        close, volume = np.array(self.closes), np.array(self.volumes)
        names, X = compute_features(close, volume, self.fcfg)
        labels = triple_barrier(close, self.lcfg)
        start = max(0, i - self.train_days) if self.train_days else 0
        ds = build_dataset(names, X, labels, known_before=i - self.embargo, start=start)
        if len(ds) == 0:
            return
        self.model = fit_model(ds, self.spec)
        self._trained_at = i
        data_fp = fingerprint_arrays(ds.arrays())
        rec = Training(self.dates[i], len(ds), self.dates[int(ds.t1.max())], data_fp, self.params_fp)
        self.trainings.append(rec)
        if self.artifact_dir is not None:
            day = dt.datetime.fromtimestamp(self.dates[i] / 1e9, dt.UTC).strftime("%Y-%m-%d")
            save_model(self.artifact_dir / f"{self.id}-{day}", self.model, ds.arrays(), self.model_params(),
                       {"day_ts": rec.day_ts, "last_label_end_ts": rec.last_label_end_ts, "features": list(names)})

    def predict_today(self) -> dict[str, float]:
        """P(profit-take first) per instrument from the latest feature row (instruments with NaN features left out)."""
        n = self.fcfg.lookback
        close, volume = np.array(self.closes[-n:]), np.array(self.volumes[-n:])
        _, X = compute_features(close, volume, self.fcfg)
        row = X[-1]
        ok = np.flatnonzero(np.isfinite(row).all(axis=1))
        if not len(ok):
            return {}
        p = up_probability(self.model, row[ok])
        return {self.ids[j]: float(pj) for j, pj in zip(ok.tolist(), p.tolist(), strict=True)}

    # -- trading --
    def _rebalance(self, i: int) -> None:
        probs = self.predict_today()
        self.predictions[self.dates[i]] = probs
        self._rebalanced_at = i
        ranked = sorted((iid for iid, pr in probs.items() if pr > self.threshold), key=lambda k: (-probs[k], k))
        self.target = ranked[: self.top_k]
        for iid in self.ids:
            held = self.portfolio.net_quantity(iid)
            if held > 0 and iid not in self.target and iid not in self.pending:
                self.pending.add(iid)
                self.selling.add(iid)
                inst = self.instrument(iid)
                self.submit_order(self.order_factory.market(iid, OrderSide.SELL, inst.make_quantity(held)))

    def _buy_targets(self) -> None:
        """Buy targets not held yet, once no sale is in flight (its cash is needed), sized at
        ``weight`` of equity within the cash that open buys do not already claim."""
        if self.selling:
            return
        for iid in self.target:
            if iid in self.pending or self.portfolio.net_quantity(iid) != 0:
                continue
            inst = self.instrument(iid)
            free = (self.portfolio.cash - sum(self.committed.values())) * 100 // 102  # 2% for gaps and fees
            budget = min(int(self.portfolio.equity() * self.weight), free)
            unit_cost = inst.notional_raw(self.last_raw[iid], inst.lot_size_raw)
            lots = budget // unit_cost if unit_cost > 0 else 0
            if lots * inst.lot_size_raw < max(inst.min_quantity_raw, 1):
                continue
            qty = lots * inst.lot_size_raw
            self.pending.add(iid)
            self.committed[iid] = inst.notional_raw(self.last_raw[iid], qty) * 102 // 100
            self.submit_order(self.order_factory.market(iid, OrderSide.BUY, inst.make_quantity(qty)))

    def on_order_event(self, event: Any) -> None:
        order = self.ctx.trading.order(event.client_order_id)
        if order is not None and order.is_closed:
            self.pending.discard(order.instrument_id)
            self.selling.discard(order.instrument_id)
            self.committed.pop(order.instrument_id, None)


__all__ = ["MlSignal", "Training"]
