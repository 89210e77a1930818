import io

from pypdf import PdfReader


def non_blank_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def plain_and_html(message):
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


def pdf_attachments(message) -> dict[str, str]:
    out = {}
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            reader = PdfReader(io.BytesIO(part.get_content()))
            out[part.get_filename()] = "\n".join(page.extract_text() for page in reader.pages)
    return out
