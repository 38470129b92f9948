# ruff: noqa: RUF001  (Russian copy is meant to be Cyrillic)
"""Fill the Russian catalogue for the access and metering copy, then compile it.

Run after `masthead makemessages -l ru`: `python src/masthead/locale/translate_ru.py`.
Russian has three plural forms (1, 21 / 2-4, 22 / 0, 5-20, 25): every plural entry gives all three.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PO = Path(__file__).parent / "ru" / "LC_MESSAGES" / "django.po"
PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : "
    "n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)

HEADER = {
    "Project-Id-Version": "Masthead",
    "PO-Revision-Date": "2026-11-27 18:30+0000",
    "Last-Translator": "Masthead maintainers",
    "Language-Team": "Russian",
}

RU: dict[str, str | tuple[str, str, str]] = {
    "You have %(count)d free article left %(period)s": (
        "У вас осталась %(count)d бесплатная статья %(period)s",
        "У вас осталось %(count)d бесплатные статьи %(period)s",
        "У вас осталось %(count)d бесплатных статей %(period)s",
    ),
    "This is your last free article %(period)s": "Это ваша последняя бесплатная статья %(period)s",
    "You have read your %(count)d free article %(period)s": (
        "Вы прочитали %(count)d бесплатную статью %(period)s",
        "Вы прочитали все %(count)d бесплатные статьи %(period)s",
        "Вы прочитали все %(count)d бесплатных статей %(period)s",
    ),
    "Register for free to read %(count)d more article %(period)s": (
        "Зарегистрируйтесь бесплатно, чтобы прочитать ещё %(count)d статью %(period)s",
        "Зарегистрируйтесь бесплатно, чтобы прочитать ещё %(count)d статьи %(period)s",
        "Зарегистрируйтесь бесплатно, чтобы прочитать ещё %(count)d статей %(period)s",
    ),
    "in the next %(days)d day": (
        "в ближайший %(days)d день",
        "в ближайшие %(days)d дня",
        "в ближайшие %(days)d дней",
    ),
    "this month": "в этом месяце",
    "This article is for subscribers": "Эта статья доступна только подписчикам",
    "Sign in or subscribe to read the whole article": (
        "Войдите или оформите подписку, чтобы прочитать статью целиком"
    ),
    "Your trial period has expired": "Ваш пробный период закончился",
    "Your full access to %(site)s has expired": "Ваш полный доступ к %(site)s закончился",
    "We could not check your free articles just now. Please try again shortly.": (
        "Сейчас мы не можем проверить ваши бесплатные статьи. Попробуйте чуть позже."
    ),
    "Free access": "Бесплатный доступ",
    "Subscribe to keep reading": "Оформите подписку, чтобы читать дальше",
    "Register for free": "Зарегистрироваться бесплатно",
    "Read all stories with unlimited access": "Читайте все материалы без ограничений",
    "Use our mobile and tablet apps": "Пользуйтесь нашими приложениями для телефона и планшета",
    "See all offers and subscribe": "Все предложения и подписка",
    "Already a subscriber?": "Уже подписаны?",
    "Sign in": "Войти",
}

ENTRY = re.compile(
    r'(?P<head>(?:#.*\n)*)msgid (?P<id>"(?:.*)"(?:\n".*")*)\n'
    r'(?:msgid_plural (?P<plural>"(?:.*)"(?:\n".*")*)\n)?'
    r'(?P<strs>(?:msgstr(?:\[\d\])? ".*"(?:\n".*")*\n?)+)'
)


def unquote(block: str) -> str:
    return "".join(
        line[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        for line in block.split("\n")
    )


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


translated: set[str] = set()


def translate(match: re.Match[str]) -> str:
    msgid = unquote(match["id"])
    found = RU.get(msgid)
    if found is None or not msgid:
        return match[0]
    translated.add(msgid)
    head = match["head"].replace("#, fuzzy\n", "")
    out = f"{head}msgid {match['id']}\n"
    if match["plural"]:
        assert isinstance(found, tuple), msgid
        out += f"msgid_plural {match['plural']}\n"
        out += "".join(f"msgstr[{n}] {quote(form)}\n" for n, form in enumerate(found))
    else:
        assert isinstance(found, str), msgid
        out += f"msgstr {quote(found)}\n"
    return out


def main() -> None:
    text = PO.read_text(encoding="utf-8")
    text = re.sub(
        r'"Plural-Forms: [^"]*"(?:\n"[^"]*")*',
        f'"Plural-Forms: {PLURAL_FORMS}\\\\n"',
        text,
        count=1,
    )
    text = text.replace('"Language: \\n"', '"Language: ru\\n"', 1)
    text = text.replace('#, fuzzy\nmsgid ""\nmsgstr ""\n', 'msgid ""\nmsgstr ""\n', 1)
    for field, value in HEADER.items():
        text = re.sub(rf'"{field}: [^"]*"', f'"{field}: {value}\\\\n"', text, count=1)
    text = ENTRY.sub(translate, text)
    missing = sorted(set(RU) - translated)
    if missing:
        raise SystemExit(f"not in the catalogue (run makemessages first): {missing}")
    PO.write_text(text, encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(PO.with_suffix(".mo")), str(PO)], check=True)


if __name__ == "__main__":
    main()
