"""The widgets' error text and two-column tables: escaped, and the hooks tests rely on."""

from html.parser import HTMLParser

from genesis_lab.widgets.markup import error_html, table_html


class _Cells(HTMLParser):
    """The text of each th/td and the class of each td, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.classes: list[str | None] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag in {"th", "td"}:
            self.cells.append("")
            self._open = True
            if tag == "td":
                self.classes.append(dict(attrs).get("class"))

    def handle_endtag(self, tag):
        if tag in {"th", "td"}:
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.cells[-1] += data


def _parse(markup: str) -> _Cells:
    parser = _Cells()
    parser.feed(markup)
    return parser


def test_table_text_reads_back_as_given_even_with_markup_in_it():
    rows = [("<b>name</b>", "a & b"), ("n", 3), ("units", "W/m² <script>x</script>")]
    parsed = _parse(table_html(rows))
    assert parsed.cells == ["<b>name</b>", "a & b", "n", "3", "units", "W/m² <script>x</script>"]
    assert "<script>" not in table_html(rows)
    assert parsed.classes == [None, None, None]


def test_value_class_names_each_value_cell():
    parsed = _parse(table_html([("width", "1.5 m"), ("depth", "2 m")], value_class="genesis-out-"))
    assert parsed.classes == ["genesis-out-width", "genesis-out-depth"]


def test_an_empty_table_is_still_a_table():
    assert table_html([]) == "<table></table>"


def test_error_text_is_escaped_and_coloured():
    out = error_html(ValueError("s0 = 12 is out of bounds <0, 10>"))
    assert "&lt;0, 10&gt;" in out
    assert out.startswith("<span style='color:var(--jp-error-color1,#c00)'>")
