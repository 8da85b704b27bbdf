"""One router per endpoint group; `api.app` includes them."""
