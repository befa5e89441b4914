"""What routes get injected: the settings, the model holder, the batcher, the metrics and
the shutdown state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.batching import Batcher
from service.holder import ModelHolder
from service.metrics import Metrics
from service.settings import Settings
from service.shutdown import Shutdown


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


def get_batcher(request: Request) -> Batcher:
    return request.app.state.batcher


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_shutdown(request: Request) -> Shutdown:
    return request.app.state.shutdown


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
BatcherDep = Annotated[Batcher, Depends(get_batcher)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ShutdownDep = Annotated[Shutdown, Depends(get_shutdown)]
