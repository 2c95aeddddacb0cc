"""Start olah (run by the hub virtual environment's Python) with one fix for the course's tests.

olah 0.5.4 offline answers the listing of a folder that a served repo lacks with 401 (as for a
missing repo); the Hub answers 404 "EntryNotFound", which clients treat as "no such folder".
transformers 5 lists `additional_chat_templates/` of every tokenizer repo, so we answer as the Hub.
"""

import sys

from fastapi.responses import JSONResponse
from olah import server


@server.app.middleware("http")
async def missing_folder_is_not_found(request, call_next):
    response = await call_next(request)
    if response.status_code == 401 and "/tree/" in request.url.path:
        return JSONResponse(
            {"error": "Entry not found"}, status_code=404, headers={"X-Error-Code": "EntryNotFound"}
        )
    return response


if __name__ == "__main__":
    sys.exit(server.cli())
