"""How the audit reads a response: every place text can hide is read, markup never matters."""

from masthead.audit.text import Page, shingles_of, words

GATED = "<p>Only readers in full should learn <b>this</b> quiet detail.</p>"
SIX = ("only", "readers", "in", "full", "should", "learn")


def found(body: str) -> bool:
    return Page(body).first_of(sorted(shingles_of(GATED))) is not None


def test_gated_text_in_an_attribute_is_found():
    assert found('<meta name="description" content="Only readers in full should learn this">')
    assert found("<div data-body='Only readers in full should learn'></div>")


def test_gated_text_in_a_comment_or_cdata_is_found():
    assert found("<!-- only READERS in full,   should learn -->")
    assert found("<description><![CDATA[<p>Only readers in full should learn</p>]]></description>")


def test_gated_text_in_json_unicode_escapes_is_found():
    escaped = "".join(f"\\u{ord(char):04x}" for char in "Only readers in full should learn")
    assert found('{"articleBody": "' + escaped + '"}')
    assert found('{"body": "<p>Only readers in full should learn<\\/p>"}')


def test_html_escaped_inside_xml_is_found():
    assert found("<item><description>&lt;p&gt;Only readers &amp;amp; in full should learn")
    assert not found("<description>Only readers in full learn</description>")  # a word missing


def test_inline_tags_and_entities_do_not_hide_a_sentence():
    assert found("<p>Only <em>readers</em> in&nbsp;full should <a href='/x/'>learn</a></p>")


def test_a_short_sentence_is_a_shingle_of_its_own_and_a_two_word_one_is_not():
    shingles = shingles_of("<p>Vault code is 7731.</p><p>He left.</p><p>" + GATED + "</p>")
    assert ("vault", "code", "is", "7731") in shingles
    assert ("he", "left") not in shingles
    assert SIX in shingles


def test_a_search_page_may_echo_its_query():
    page = Page("<h1>Results for “Only readers in full should learn”</h1>", mask=SIX)
    assert not page.contains(SIX)
    assert Page("<p>Only readers in full should learn</p>").contains(SIX)


def test_words_are_casefolded_word_characters():
    assert words("Straße &amp; <b>ÉTÉ</b>") == ["strasse", "amp", "b", "été", "b"]
