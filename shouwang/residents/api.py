from ninja import Router

router = Router(tags=["passes"])  # placeholder: being written
