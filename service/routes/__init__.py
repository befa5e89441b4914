"""The app's routers, in the order ``create_app`` includes them: add a feature's router here."""

from fastapi import APIRouter

from service.routes import classify, compare, model_card, ops, page

ROUTERS: tuple[APIRouter, ...] = (
    classify.router, compare.router, model_card.router, ops.router, page.router
)
