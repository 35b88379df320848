"""Translation pairs in and out: line-aligned, TSV, XLIFF 1.2/2.0 and TMX (translate-toolkit); untrusted XML."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("translate.storage.xliff")
from lxml import etree  # noqa: E402

import garble  # noqa: E402
from garble.bitext import SUBSTATE, TMX_PROP, mark_reviewed, read_aligned, read_tsv, read_xml, score_bitext, serialize  # noqa: E402
from garble.errors import InputError  # noqa: E402

XLIFF12 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2" xmlns:my="urn:example:my">
  <file original="app.strings" source-language="zh-CN" target-language="en" datatype="plaintext" my:owner="l10n">
    <header><tool tool-id="cat" tool-name="Some CAT tool"/></header>
    <body>
      <group id="g1" restype="x-menu">
        <trans-unit id="greet" resname="greet" maxwidth="40">
          <source>你好，<g id="b1" ctype="bold">{name}</g>！</source>
          <target state="translated">Hello, <g id="b1" ctype="bold">{name}</g>!</target>
          <note from="dev">greeting on the start page</note>
        </trans-unit>
      </group>
      <trans-unit id="count">
        <source>会议有35个国家参加。</source>
        <target>Delegates from 53 countries attended.</target>
      </trans-unit>
      <trans-unit id="files" approved="yes">
        <source>已删除 %(count)s 个文件<x id="br1"/></source>
        <target state="final">Deleted %(count) files<x id="br1"/></target>
      </trans-unit>
      <trans-unit id="empty"><source>无译文</source></trans-unit>
    </body>
  </file>
</xliff>
"""

XLIFF20 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
  <file id="f1" original="ui.json">
    <unit id="u1" name="greet">
      <segment state="translated"><source>你好，<pc id="1">{name}</pc>！</source>\
<target>Hello, <pc id="1">{name}</pc>!</target></segment>
    </unit>
    <unit id="u2">
      <segment><source>会议有35个国家参加。</source><target>Delegates from 53 countries attended.</target></segment>
    </unit>
  </file>
</xliff>
"""

TMX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
  <header creationtool="x" creationtoolversion="1" segtype="sentence" o-tmf="x" adminlang="en" srclang="zh" \
datatype="plaintext"/>
  <body>
    <tu tuid="1"><tuv xml:lang="zh"><seg>天气很好。</seg></tuv>\
<tuv xml:lang="en"><seg>The weather was fine.</seg></tuv></tu>
    <tu tuid="2"><prop type="x-client">acme</prop><tuv xml:lang="zh"><seg>会议有35个国家参加。</seg></tuv>\
<tuv xml:lang="en"><seg>Delegates from 53 countries attended.</seg></tuv></tu>
  </body>
</tmx>
"""


@pytest.fixture(scope="module")
def scorer():
    return garble.Scorer(model=False)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _canon(xml: bytes, drop_garble: bool) -> bytes:
    """The tree with whitespace-only text removed, and (drop_garble) garble's additions taken out."""
    root = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    if drop_garble:
        for el in list(root.iter()):
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local == "note" and (
                el.get("from") == "garble" or el.get("category") == "garble" or (el.text or "").startswith("garble:")
            ):
                parent = el.getparent()
                parent.remove(el)
                if etree.QName(parent).localname == "notes" and len(parent) == 0:
                    parent.getparent().remove(parent)
            elif local == "prop" and el.get("type") == TMX_PROP:
                el.getparent().remove(el)
            if el.get("subState") == SUBSTATE:
                del el.attrib["subState"]
    for el in root.iter():
        if isinstance(el.tag, str) and el.text is not None and not el.text.strip() and len(el):
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(root, method="c14n")


def _review(path, scorer, threshold=0.5):
    bt = read_xml(path)
    res = score_bitext(bt, scorer)
    n = mark_reviewed(bt, res, threshold)
    return bt, res, n, serialize(bt)


def test_xliff12_review_marks_flagged_units_and_keeps_the_rest(tmp_path, scorer):
    path = _write(tmp_path, "a.xlf", XLIFF12)
    bt, res, n, out = _review(path, scorer)
    assert bt.format == "xliff1" and bt.source_lang == "zh"
    assert [(s.id, s.source, s.target) for s in bt.segments] == [
        ("greet", "你好，{name}！", "Hello, {name}!"),
        ("count", "会议有35个国家参加。", "Delegates from 53 countries attended."),
        ("files", "已删除 %(count)s 个文件", "Deleted %(count) files"),
    ]
    assert n == 2  # the changed number and the broken placeholder; the greeting is fine
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    root = etree.fromstring(out)
    states = {
        tu.get("id"): tu.find("x:target", ns).get("state") if tu.find("x:target", ns) is not None else None
        for tu in root.iterfind(".//x:trans-unit", ns)
    }
    assert states == {
        "greet": "translated",
        "count": "needs-review-translation",
        "files": "needs-review-translation",
        "empty": None,
    }
    note = root.find(".//x:trans-unit[@id='count']/x:note[@from='garble']", ns).text
    assert note.startswith("garble: review score 0.") and "number changed" in note
    assert root.find(".//x:trans-unit[@id='files']", ns).get("approved") == "no"
    # everything else is the same tree: units, attributes (foreign namespaces too), inline tags, notes
    expected = etree.fromstring(XLIFF12.encode())
    for tu in expected.iterfind(".//x:trans-unit", ns):
        if tu.get("id") in ("count", "files"):
            tu.find("x:target", ns).set("state", "needs-review-translation")
    expected.find(".//x:trans-unit[@id='files']", ns).set("approved", "no")
    assert _canon(out, True) == _canon(etree.tostring(expected), False)
    # and the reviewed file reads back with the same units
    back = read_xml(_write(tmp_path, "b.xlf", out.decode()))
    assert [(s.id, s.source, s.target) for s in back.segments] == [(s.id, s.source, s.target) for s in bt.segments]


def test_xliff12_made_by_translate_toolkit_round_trips(tmp_path, scorer):
    from translate.storage import xliff

    store = xliff.xlifffile(sourcelanguage="zh", targetlanguage="en")
    for src, tgt in [
        ("天气很好。", "The weather was fine."),
        ("会议有35个国家参加。", "Delegates from 53 countries attended."),
        ("谢谢", "Thanks"),
    ]:
        u = store.addsourceunit(src)
        u.settarget(tgt)
    made = bytes(store)
    path = str(tmp_path / "tk.xlf")
    open(path, "wb").write(made)
    bt, res, n, out = _review(path, scorer, threshold=1.1)  # nothing flagged: the file comes back unchanged
    assert n == 0 and _canon(out, False) == _canon(made, False)
    bt, res, n, out = _review(path, scorer)
    assert n == 1 and _canon(out, True).count(b"needs-review-translation") == 1


def test_xliff20_substate_and_notes(tmp_path, scorer):
    bt, res, n, out = _review(_write(tmp_path, "a.xlf", XLIFF20), scorer)
    assert bt.format == "xliff2" and [s.id for s in bt.segments] == ["u1", "u2"] and n == 1
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    root = etree.fromstring(out)
    u2 = root.find(".//x:unit[@id='u2']", ns)
    seg = u2.find("x:segment", ns)
    assert (seg.get("state"), seg.get("subState")) == ("translated", SUBSTATE)  # state set: subState needs it
    assert etree.QName(u2[0]).localname == "notes" and u2[0][0].get("category") == "garble"
    assert root.find(".//x:unit[@id='u1']/x:segment", ns).get("subState") is None
    expected = etree.fromstring(XLIFF20.encode())
    expected.find(".//x:unit[@id='u2']/x:segment", ns).set("state", "translated")
    assert _canon(out, True) == _canon(etree.tostring(expected), False)


def test_tmx_prop_and_note(tmp_path, scorer):
    bt, res, n, out = _review(_write(tmp_path, "a.tmx", TMX), scorer)
    assert bt.format == "tmx" and n == 1
    root = etree.fromstring(out)
    tu2 = root.find(".//tu[@tuid='2']")
    assert tu2.find(f"prop[@type='{TMX_PROP}']").text == "needs-review" and tu2.find("note").text.startswith("garble:")
    assert tu2.find("prop[@type='x-client']").text == "acme"
    assert root.find(".//tu[@tuid='1']/note") is None
    assert _canon(out, True) == _canon(TMX.encode(), False)


def test_xxe_reads_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE xliff [
  <!ENTITY xxe SYSTEM "file://{secret}">
  <!ENTITY remote SYSTEM "http://127.0.0.1:9/x">
]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\
<file original="a" source-language="zh" target-language="en" datatype="plaintext"><body>
<trans-unit id="1"><source>你好</source><target>&xxe;&remote;</target></trans-unit></body></file></xliff>
"""
    path = _write(tmp_path, "xxe.xlf", xxe)
    with pytest.raises(InputError) as e:
        read_xml(path)
    assert str(e.value).startswith(f"{path}:3: refused") and "TOP-SECRET" not in str(e.value)


def test_entity_bomb_is_refused_fast(tmp_path):
    ents = "\n".join(
        [' <!ENTITY lol0 "lol">'] + [f' <!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    )
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE tmx [
{ents}
]>
<tmx version="1.4"><header srclang="zh"/><body>\
<tu><tuv xml:lang="zh"><seg>&lol9;</seg></tuv><tuv xml:lang="en"><seg>&lol9;</seg></tuv></tu></body></tmx>
"""
    path = _write(tmp_path, "bomb.tmx", bomb)
    t = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb\.tmx:3: refused"):
        read_xml(path)
    assert time.perf_counter() - t < 1.0


def test_any_entity_declaration_is_refused(tmp_path):
    """translate-toolkit's parser expands internal entities: garble refuses every DOCTYPE that declares one."""
    xml = (
        '<?xml version="1.0"?><!DOCTYPE xliff [<!ENTITY e "EXPANDED">]>'
        '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">'
        '<file original="a" source-language="zh" target-language="en" datatype="plaintext"><body>'
        '<trans-unit id="1"><source>x</source><target>&e;</target></trans-unit></body></file></xliff>'
    )
    with pytest.raises(InputError, match=r"e\.xlf:1: refused"):
        read_xml(_write(tmp_path, "e.xlf", xml))


@pytest.mark.parametrize(
    "text, line, what",
    [
        (
            '<?xml version="1.0"?>\n'
            '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
            '<file original="a" source-language="zh" datatype="plaintext"><body>\n'
            '<trans-unit id="1"><source>a</source><target>b</targ></trans-unit></body></file></xliff>\n',
            4,
            "malformed XML: Opening and ending tag mismatch",
        ),
        ("not xml at all\n", 1, "malformed XML"),
    ],
)
def test_malformed_xml_is_one_line_with_file_and_line(tmp_path, text, line, what):
    path = _write(tmp_path, "bad.xlf", text)
    with pytest.raises(InputError) as e:
        read_xml(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}:{line}: {what}") and "\n" not in msg


def test_wrong_root_is_an_input_error(tmp_path):
    path = _write(tmp_path, "a.xlf", '<?xml version="1.0"?><html><body/></html>')
    with pytest.raises(InputError, match="not a XLIFF file|not an XLIFF file|cannot read as XLIFF"):
        read_xml(path)


def test_tsv_and_aligned_lines(tmp_path):
    bt = read_tsv(_write(tmp_path, "p.tsv", "source\ttarget\n天气很好。\tThe weather was fine.\n\n谢谢\tThanks\n"))
    assert [(s.line, s.source, s.target) for s in bt.segments] == [
        (2, "天气很好。", "The weather was fine."),
        (4, "谢谢", "Thanks"),
    ]
    with pytest.raises(InputError, match=r"q\.tsv:2: expected 2 tab-separated columns"):
        read_tsv(_write(tmp_path, "q.tsv", "a\tb\nno tab here\n"))
    t = _write(tmp_path, "t.txt", "one\ntwo\n")
    s = _write(tmp_path, "s.txt", "一\n")
    with pytest.raises(InputError, match=r"t\.txt: 2 lines but the source .*s\.txt has 1"):
        read_aligned(t, s)


@pytest.mark.parametrize("kind", ["xliff2", "tmx"])
def test_files_made_by_translate_toolkit_round_trip(tmp_path, scorer, kind):
    from translate.storage import tmx, xliff2

    store = (
        xliff2.Xliff2File(sourcelanguage="zh", targetlanguage="en")
        if kind == "xliff2"
        else tmx.tmxfile(sourcelanguage="zh", targetlanguage="en")
    )
    for i, (src, tgt) in enumerate(
        [("天气很好。", "The weather was fine."), ("会议有35个国家参加。", "Delegates from 53 countries attended.")]
    ):
        u = store.addsourceunit(src)
        u.target = tgt
        if kind == "xliff2":
            u.setid(f"u{i}")
    made = bytes(store)
    path = str(tmp_path / ("tk.xlf" if kind == "xliff2" else "tk.tmx"))
    open(path, "wb").write(made)
    bt, res, n, out = _review(path, scorer, threshold=1.1)
    assert bt.format == kind and n == 0 and _canon(out, False) == _canon(made, False)
    bt, res, n, out = _review(path, scorer)
    assert n == 1 and _canon(out, False) != _canon(made, False)
    expected = etree.fromstring(made)
    if kind == "xliff2":
        expected.find(
            ".//{urn:oasis:names:tc:xliff:document:2.0}unit[@id='u1']/{urn:oasis:names:tc:xliff:document:2.0}segment"
        ).set("state", "translated")
    assert _canon(out, True) == _canon(etree.tostring(expected), False)
    assert [(s.source, s.target) for s in read_xml(_write(tmp_path, "back" + path[-4:], out.decode())).segments] == [
        (s.source, s.target) for s in bt.segments
    ]
