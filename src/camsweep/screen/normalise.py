"""Name normalisation for screening: one function turns any company or person name into a
`NameForm` whose tokens are classed (distinctive, generic, location, legal form, number).

What it handles, in order:
- Unicode: NFKC, case folding, Latin transliteration of every script through
  `normality.ascii_text` (ICU `Any-Latin; Latin-ASCII`).
- Chinese script has no spaces and ICU romanises it syllable by syllable, with polyphone
  errors (天地 -> "tian de"). So Han runs are cut first: legal forms (股份有限公司, 有限公司 ...)
  and generic words (技术, 科技, 数字 ...) are stripped as substrings and mapped to their
  English classes, leading place names (杭州, 浙江 ...) become location tokens, and what is
  left is romanised and joined into ONE token ("海康威视" -> "haikangweishi"). Pinyin typed
  by a person ("Haikang Weishi") meets it because adjacent tokens are joined when compared.
- Legal forms in many languages ("Co., Ltd.", "GmbH", "S.p.A.", "Sp. z o.o.", "youxian
  gongsi") are dropped from identity but remembered.
- Locations ("UK", "United Kingdom", "(Hangzhou)", "Europe") are kept apart: they qualify
  a match, they do not make one.
- Generic industry words ("technology", "digital", "systems") weigh less than distinctive
  ones, so "Dahua Scale" is not "Dahua Technology".

Pure and cached: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from normality import ascii_text

# --- vocabularies ---------------------------------------------------------------------

# Legal-form tokens (after punctuation is removed and single letters are joined:
# "S.p.A." -> "spa", "B.V." -> "bv", "Sp. z o.o." -> "sp zoo").
LEGAL_FORMS: frozenset[str] = frozenset(
    [
        "ltd", "limited", "co", "company", "companies", "corp", "corporation", "corporate", "inc",
        "incorporated", "incorporation", "llc", "llp", "lp", "plc", "pllc", "pc", "pte", "pty",
        "pvt", "private", "public", "jsc", "ojsc", "pjsc", "cjsc", "zao", "ooo", "oao", "pao",
        "ao", "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ev", "se", "sa", "sas", "sasu",
        "sarl", "eurl", "snc", "sca", "spa", "srl", "srls", "sapa", "scarl", "bv", "nv", "vof",
        "cv", "ab", "hb", "kb", "as", "asa", "aps", "oy", "oyj", "ky", "kk", "gk", "yk", "sl",
        "sll", "slu", "sau", "sad", "sro", "spol", "zoo", "sp", "spzoo", "sarl", "doo", "dd",
        "ad", "ead", "ood", "kft", "zrt", "nyrt", "bhd", "sdn", "tbk", "pt", "lda", "ltda",
        "eireli", "mei", "me", "epp", "ik", "fze", "fzco", "fzllc", "fzc", "fz", "dmcc", "wll",
        "spc", "qsc", "bsc", "saog", "saoc", "psc", "pjs", "ltee", "youxian", "gongsi",
        "youxiangongsi", "gufen", "zeren", "youxianzerengongsi", "gufenyouxiangongsi",
        "holdingco", "trust", "lllp", "unltd", "ulc",
    ]
)
# Multi-word legal forms folded to one token before tokenising.
LEGAL_PHRASES: tuple[tuple[str, str], ...] = (
    ("limited liability company", "llc"),
    ("limited liability partnership", "llp"),
    ("public limited company", "plc"),
    ("private limited", "pvt ltd"),
    ("joint stock company", "jsc"),
    ("société anonyme", "sa"),
    ("societe anonyme", "sa"),
    ("sociedad anonima", "sa"),
    ("sociedad limitada", "sl"),
    ("société à responsabilité limitée", "sarl"),
    ("societe a responsabilite limitee", "sarl"),
    ("sa de cv", "sa cv"),
    ("s de rl", "srl"),
    ("besloten vennootschap", "bv"),
    ("naamloze vennootschap", "nv"),
    ("aktiengesellschaft", "ag"),
    ("gesellschaft mit beschrankter haftung", "gmbh"),
    ("gesellschaft mit beschränkter haftung", "gmbh"),
    ("spolka z ograniczona odpowiedzialnoscia", "spzoo"),
    ("sp z o o", "spzoo"),
    ("youxian zeren gongsi", "youxianzerengongsi"),
    ("gufen youxian gongsi", "gufenyouxiangongsi"),
)

# Words that say what a company does, not who it is.
GENERIC: frozenset[str] = frozenset(
    [
        "technology", "technologies", "tech", "techs", "technological", "digital", "electronic",
        "electronics", "electric", "electrical", "electro", "communication", "communications",
        "comm", "comms", "telecom", "telecoms", "telecommunication", "telecommunications",
        "network", "networks", "networking", "information", "info", "system", "systems",
        "security", "secure", "solution", "solutions", "service", "services", "intelligent",
        "intelligence", "smart", "science", "sciences", "scientific", "engineering", "engineers",
        "industrial", "industries", "industry", "manufacturing", "manufacture", "manufacturer",
        "manufacturers", "trading", "trade", "traders", "import", "imports", "export", "exports",
        "development", "developments", "equipment", "products", "product", "international",
        "intl", "global", "worldwide", "overseas", "holding", "holdings", "group", "groups",
        "investment", "investments", "enterprise", "enterprises", "software", "hardware", "video",
        "surveillance", "cctv", "camera", "cameras", "imaging", "optical", "optics",
        "optoelectronic", "optoelectronics", "photonics", "automation", "robotics", "innovation",
        "innovations", "research", "institute", "laboratory", "laboratories", "lab", "labs",
        "center", "centre", "capital", "ventures", "partners", "management", "consulting",
        "consultants", "supply", "supplies", "distribution", "distributors", "distributor",
        "logistics", "sales", "marketing", "business", "commercial", "wisdom", "control",
        "controls", "internet", "cloud", "data", "media", "microelectronics", "semiconductor",
        "semiconductors", "devices", "device", "instruments", "instrument", "integration",
        "integrated", "integrator", "installation", "installers", "protection", "safety", "fire",
        "alarm", "alarms", "access", "power", "energy", "material", "materials", "machinery",
        "machine", "machines", "vision", "visual", "display", "displays", "audio", "iot", "ai",
        "branch", "office", "representative", "jishu", "keji", "shuzi", "dianzi", "tongxin",
        "tongxun", "wangluo", "xinxi", "zhineng", "xitong", "ruanjian", "anfang", "jituan",
        "konggu", "guoji", "shiye", "gongye", "maoyi", "fazhan", "zhihui", "shebei",
        "kejiyouxian",
    ]
)

# Generic words of the restricted makers' own sector (surveillance, telecoms, electronics):
# added to a listed name they still describe that company ("Dahua Vision Technology"),
# unlike words of any trade ("Dahua Group", "Keda Industrial").
SECTOR: frozenset[str] = frozenset(
    [
        "technology", "digital", "electronics", "communications", "telecom", "network",
        "information", "systems", "security", "intelligent", "smart", "software", "hardware",
        "video", "surveillance", "cctv", "camera", "imaging", "optical", "optics",
        "optoelectronics", "photonics", "vision", "visual", "iot", "ai", "device", "wisdom",
        "microelectronics", "semiconductor", "integration", "control", "automation", "robotics",
    ]
)

# Spellings of one generic word folded to one token (English plurals, pinyin), so
# "Dahua Keji" meets "Dahua Technology" and "Technologies" meets "Technology".
TOKEN_CANON: dict[str, str] = {
    "technologies": "technology", "tech": "technology", "techs": "technology",
    "technological": "technology", "jishu": "technology", "keji": "technology",
    "electronic": "electronics", "dianzi": "electronics", "communication": "communications",
    "comm": "communications", "comms": "communications", "tongxin": "communications",
    "tongxun": "communications", "telecoms": "telecom", "telecommunication": "telecom",
    "telecommunications": "telecom", "networks": "network", "networking": "network",
    "wangluo": "network", "info": "information", "xinxi": "information",
    "system": "systems", "xitong": "systems", "solution": "solutions", "services": "service",
    "intelligence": "intelligent", "zhineng": "intelligent", "sciences": "science",
    "scientific": "science", "industries": "industrial", "industry": "industrial",
    "shiye": "industrial", "gongye": "industrial", "intl": "international",
    "guoji": "international", "holding": "holdings", "konggu": "holdings", "groups": "group",
    "jituan": "group", "investments": "investment", "enterprises": "enterprise",
    "products": "product", "devices": "device", "supplies": "supply", "controls": "control",
    "laboratories": "laboratory", "labs": "laboratory", "lab": "laboratory",
    "centre": "center", "ruanjian": "software", "anfang": "security", "maoyi": "trading",
    "trade": "trading", "fazhan": "development", "zhihui": "wisdom", "shebei": "equipment",
    "shuzi": "digital", "cameras": "camera", "instruments": "instrument",
    "engineers": "engineering", "innovations": "innovation", "optic": "optics",
}

# Not "de", "da", "di", "le": they are pinyin syllables too (Da Hua, Tian Di), so they
# stay, as particles that weigh little ("Dahua Technology de Mexico").
STOPWORDS: frozenset[str] = frozenset(["and", "the", "of", "for", "und", "et", "du", "des", "les"])
PARTICLES: frozenset[str] = frozenset(
    ["de", "da", "di", "do", "la", "le", "el", "y", "e", "van", "von", "der", "den", "del"]
)
# Pinyin typed syllable by syllable: generic words and legal forms joined again.
PINYIN_PHRASES: tuple[tuple[str, str], ...] = tuple(
    (f"{a} {b}", f"{a}{b}") for a, b in (
        ("ji", "shu"), ("ke", "ji"), ("gu", "fen"), ("you", "xian"), ("gong", "si"),
        ("shu", "zi"), ("wang", "luo"), ("tong", "xin"), ("tong", "xun"), ("dian", "zi"),
        ("ji", "tuan"), ("zhi", "neng"), ("xin", "xi"), ("xi", "tong"), ("an", "fang"),
        ("kong", "gu"), ("ze", "ren"),
    )
)

# Location vocabulary: token -> ISO country code ("" for regions that are not countries).
_COUNTRIES: dict[str, str] = {
    "china": "cn", "prc": "cn", "chinese": "cn", "zhongguo": "cn",
    "uk": "gb", "gb": "gb", "britain": "gb", "england": "gb", "scotland": "gb", "wales": "gb",
    "london": "gb", "british": "gb",
    "usa": "us", "us": "us", "america": "us", "american": "us",
    "hongkong": "hk", "hk": "hk", "macau": "mo", "macao": "mo", "taiwan": "tw",
    "ireland": "ie", "france": "fr", "germany": "de", "deutschland": "de", "italy": "it",
    "italia": "it", "spain": "es", "espana": "es", "iberia": "es", "portugal": "pt",
    "netherlands": "nl", "holland": "nl", "nederland": "nl", "belgium": "be",
    "luxembourg": "lu", "switzerland": "ch", "austria": "at", "poland": "pl", "polska": "pl",
    "czech": "cz", "czechia": "cz", "slovakia": "sk", "hungary": "hu", "romania": "ro",
    "bulgaria": "bg", "greece": "gr", "turkey": "tr", "turkiye": "tr", "sweden": "se",
    "norway": "no", "denmark": "dk", "finland": "fi", "russia": "ru", "rus": "ru",
    "ukraine": "ua", "kazakhstan": "kz", "uzbekistan": "uz", "serbia": "rs", "croatia": "hr",
    "slovenia": "si", "lithuania": "lt", "latvia": "lv", "estonia": "ee", "iceland": "is",
    "canada": "ca", "mexico": "mx", "brazil": "br", "brasil": "br", "argentina": "ar",
    "chile": "cl", "colombia": "co", "peru": "pe", "panama": "pa", "venezuela": "ve",
    "india": "in", "pakistan": "pk", "bangladesh": "bd", "srilanka": "lk", "nepal": "np",
    "singapore": "sg", "malaysia": "my", "indonesia": "id", "thailand": "th",
    "vietnam": "vn", "philippines": "ph", "cambodia": "kh", "myanmar": "mm", "laos": "la",
    "japan": "jp", "korea": "kr", "southkorea": "kr", "mongolia": "mn",
    "australia": "au", "newzealand": "nz", "uae": "ae", "dubai": "ae", "emirates": "ae",
    "saudi": "sa", "saudiarabia": "sa", "qatar": "qa", "kuwait": "kw", "oman": "om",
    "bahrain": "bh", "iran": "ir", "iraq": "iq", "israel": "il", "jordan": "jo",
    "lebanon": "lb", "egypt": "eg", "morocco": "ma", "algeria": "dz", "tunisia": "tn",
    "nigeria": "ng", "kenya": "ke", "southafrica": "za", "ethiopia": "et", "ghana": "gh",
    "tanzania": "tz", "uganda": "ug", "angola": "ao", "zambia": "zm",
    # Cities that name national subsidiaries and branches.
    "paris": "fr", "lyon": "fr", "berlin": "de", "munich": "de", "hamburg": "de",
    "frankfurt": "de", "dusseldorf": "de", "milan": "it", "milano": "it", "rome": "it",
    "madrid": "es", "barcelona": "es", "lisbon": "pt", "amsterdam": "nl", "rotterdam": "nl",
    "brussels": "be", "vienna": "at", "zurich": "ch", "geneva": "ch", "warsaw": "pl",
    "prague": "cz", "budapest": "hu", "bucharest": "ro", "athens": "gr", "istanbul": "tr",
    "ankara": "tr", "moscow": "ru", "kyiv": "ua", "stockholm": "se", "oslo": "no",
    "copenhagen": "dk", "helsinki": "fi", "dublin": "ie", "manchester": "gb",
    "birmingham": "gb", "leeds": "gb", "bristol": "gb", "glasgow": "gb", "edinburgh": "gb",
    "belfast": "gb", "cardiff": "gb", "toronto": "ca", "vancouver": "ca", "montreal": "ca",
    "sydney": "au", "melbourne": "au", "auckland": "nz", "mumbai": "in", "delhi": "in",
    "bangalore": "in", "tokyo": "jp", "osaka": "jp", "seoul": "kr", "jakarta": "id",
    "bangkok": "th", "manila": "ph", "hanoi": "vn", "riyadh": "sa", "jeddah": "sa",
    "doha": "qa", "tehran": "ir", "cairo": "eg", "lagos": "ng", "nairobi": "ke",
    "johannesburg": "za", "saopaulo": "br", "mexicocity": "mx", "bogota": "co", "lima": "pe",
    "santiago": "cl", "miami": "us", "newyork": "us", "chicago": "us", "houston": "us",
    "dallas": "us", "losangeles": "us", "sanfrancisco": "us", "seattle": "us",
    # Chinese provinces and cities that prefix legal names.
    "zhejiang": "cn", "hangzhou": "cn", "shenzhen": "cn", "beijing": "cn", "shanghai": "cn",
    "tianjin": "cn", "suzhou": "cn", "chengdu": "cn", "guangzhou": "cn", "guangdong": "cn",
    "wuhan": "cn", "hubei": "cn", "nanjing": "cn", "jiangsu": "cn", "chongqing": "cn",
    "xian": "cn", "shaanxi": "cn", "xiamen": "cn", "fujian": "cn", "fuzhou": "cn",
    "shandong": "cn", "qingdao": "cn", "jinan": "cn", "sichuan": "cn", "anhui": "cn",
    "hefei": "cn", "hunan": "cn", "changsha": "cn", "henan": "cn", "zhengzhou": "cn",
    "hebei": "cn", "shijiazhuang": "cn", "liaoning": "cn", "shenyang": "cn", "dalian": "cn",
    "jilin": "cn", "heilongjiang": "cn", "harbin": "cn", "yunnan": "cn", "kunming": "cn",
    "guizhou": "cn", "guiyang": "cn", "guangxi": "cn", "nanning": "cn", "jiangxi": "cn",
    "nanchang": "cn", "shanxi": "cn", "taiyuan": "cn", "gansu": "cn", "lanzhou": "cn",
    "xinjiang": "cn", "urumqi": "cn", "wulumuqi": "cn", "tibet": "cn", "xizang": "cn",
    "ningxia": "cn", "qinghai": "cn", "hainan": "cn", "neimenggu": "cn", "ningbo": "cn",
    "wenzhou": "cn", "dongguan": "cn", "foshan": "cn", "zhuhai": "cn", "wuxi": "cn",
    "changzhou": "cn", "kunshan": "cn", "shaoxing": "cn", "jiaxing": "cn", "huzhou": "cn",
    "jinhua": "cn", "yiwu": "cn", "taizhou": "cn", "quzhou": "cn", "lishui": "cn",
}
# Regions: locations that name no single country.
_REGIONS: frozenset[str] = frozenset(
    [
        "europe", "european", "eu", "emea", "apac", "asia", "asian", "pacific", "middleeast",
        "mena", "africa", "african", "latam", "latinamerica", "northamerica", "southamerica",
        "nordic", "nordics", "benelux", "dach", "gulf", "gcc", "oceania", "eurasia", "cis",
        "caribbean", "balkans", "scandinavia",
    ]
)
LOCATIONS: dict[str, str] = {**_COUNTRIES, **dict.fromkeys(_REGIONS, "")}
# Spellings of one place folded to one token, so "(UK)" meets "United Kingdom" and
# 中国 ("china") meets "Zhongguo".
LOCATION_CANON: dict[str, str] = {
    "zhongguo": "china", "prc": "china", "chinese": "china",
    "gb": "uk", "britain": "uk", "british": "uk",
    "us": "usa", "america": "usa", "american": "usa",
    "hk": "hongkong", "macao": "macau", "deutschland": "germany", "italia": "italy",
    "espana": "spain", "nederland": "netherlands", "holland": "netherlands", "polska": "poland",
    "brasil": "brazil", "czechia": "czech", "turkiye": "turkey", "rus": "russia",
    "wulumuqi": "urumqi", "xizang": "tibet", "european": "europe", "asian": "asia",
}

LOCATION_PHRASES: tuple[tuple[str, str], ...] = (
    ("united kingdom", "uk"),
    ("great britain", "uk"),
    ("united states of america", "usa"),
    ("united states", "usa"),
    ("united arab emirates", "uae"),
    ("hong kong", "hongkong"),
    ("middle east", "middleeast"),
    ("south africa", "southafrica"),
    ("new zealand", "newzealand"),
    ("saudi arabia", "saudiarabia"),
    ("south korea", "southkorea"),
    ("republic of korea", "southkorea"),
    ("sri lanka", "srilanka"),
    ("north america", "northamerica"),
    ("south america", "southamerica"),
    ("latin america", "latinamerica"),
    ("asia pacific", "apac"),
    ("people s republic of china", "prc"),
    ("peoples republic of china", "prc"),
    ("czech republic", "czechia"),
    ("russian federation", "russia"),
    ("new york", "newyork"),
    ("los angeles", "losangeles"),
    ("san francisco", "sanfrancisco"),
    ("sao paulo", "saopaulo"),
    ("mexico city", "mexicocity"),
    ("hang zhou", "hangzhou"),
    ("zhe jiang", "zhejiang"),
    ("shen zhen", "shenzhen"),
    ("bei jing", "beijing"),
    ("shang hai", "shanghai"),
    ("tian jin", "tianjin"),
    ("su zhou", "suzhou"),
    ("cheng du", "chengdu"),
    ("guang zhou", "guangzhou"),
)

# --- Han script ---------------------------------------------------------------------

# Suffixes/infixes stripped from Han names: (text, class, english token).
HAN_LEGAL: tuple[str, ...] = (
    "股份有限公司", "有限责任公司", "有限責任公司", "集团有限公司", "集團有限公司", "有限公司",
    "股份公司", "总公司", "分公司", "公司", "股份", "株式会社", "合伙企业",
    "(有限合伙)", "（有限合伙）",
)
HAN_GENERIC: tuple[tuple[str, str], ...] = (
    ("技术", "technology"), ("技術", "technology"), ("科技", "technology"),
    ("数字", "digital"), ("數字", "digital"), ("网络", "network"), ("網絡", "network"),
    ("电子", "electronics"), ("電子", "electronics"), ("通信", "communications"),
    ("通讯", "communications"), ("通訊", "communications"), ("信息", "information"),
    ("资讯", "information"), ("智能", "intelligent"), ("智慧", "wisdom"), ("系统", "systems"),
    ("系統", "systems"), ("软件", "software"), ("軟件", "software"), ("安防", "security"),
    ("集团", "group"), ("集團", "group"), ("控股", "holdings"), ("国际", "international"),
    ("國際", "international"), ("实业", "industrial"), ("實業", "industrial"),
    ("工业", "industrial"), ("贸易", "trading"), ("貿易", "trading"), ("发展", "development"),
    ("設備", "equipment"), ("设备", "equipment"), ("制造", "manufacturing"),
    ("製造", "manufacturing"), ("投资", "investment"), ("投資", "investment"),
    ("研究所", "institute"), ("研究院", "institute"), ("工程", "engineering"),
    ("服务", "services"), ("服務", "services"), ("产品", "products"),
)
HAN_PLACES: tuple[tuple[str, str], ...] = (
    ("中华人民共和国", "prc"), ("中国", "china"), ("中國", "china"),
    ("杭州", "hangzhou"), ("浙江", "zhejiang"), ("深圳", "shenzhen"), ("北京", "beijing"),
    ("上海", "shanghai"), ("天津", "tianjin"), ("苏州", "suzhou"), ("蘇州", "suzhou"),
    ("成都", "chengdu"), ("广州", "guangzhou"), ("廣州", "guangzhou"), ("广东", "guangdong"),
    ("武汉", "wuhan"), ("南京", "nanjing"), ("江苏", "jiangsu"), ("重庆", "chongqing"),
    ("西安", "xian"), ("厦门", "xiamen"), ("福建", "fujian"), ("山东", "shandong"),
    ("四川", "sichuan"), ("安徽", "anhui"), ("合肥", "hefei"), ("湖北", "hubei"),
    ("新疆", "xinjiang"), ("乌鲁木齐", "urumqi"), ("香港", "hongkong"), ("澳门", "macau"),
    ("台湾", "taiwan"), ("宁波", "ningbo"), ("无锡", "wuxi"), ("青岛", "qingdao"),
    ("省", ""), ("市", ""),
)
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "［": "(", "］": ")"})


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name, normalised and classed. `core` is identity: tokens minus legal forms and
    locations, in their original order, each once."""

    text: str
    core: tuple[str, ...]
    locations: tuple[str, ...]
    legal: tuple[str, ...]
    han: bool

    @property
    def key(self) -> str:
        return " ".join(self.core)

    @property
    def squashed(self) -> str:
        return "".join(self.core)

    @property
    def distinctive(self) -> tuple[str, ...]:
        return tuple(t for t in self.core if token_class(t) != "generic")

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(c for c in (LOCATIONS.get(t, "") for t in self.locations) if c)


def token_class(token: str) -> str:
    """distinctive | generic | number (legal forms and locations never reach `core`)."""
    if token.isdigit():
        return "number"
    if token in GENERIC or token in PARTICLES:
        return "generic"
    return "distinctive"


def _han_segment(segment: str) -> tuple[list[str], list[str], list[str]]:
    """One run of Han characters -> (core tokens, location tokens, legal tokens)."""
    core: list[str] = []
    locations: list[str] = []
    legal: list[str] = []
    text = segment
    for form in HAN_LEGAL:
        if form in text:
            text = text.replace(form, " ")
            legal.append("ltd")
    # Leading places, repeatedly: 浙江杭州... ; a place inside a name stays (中兴 has no place).
    changed = True
    while changed:
        changed = False
        text = text.lstrip()
        for place, token in HAN_PLACES:
            if text.startswith(place) and len(text) > len(place):
                text = text[len(place):]
                if token:
                    locations.append(token)
                changed = True
                break
    generic_found: list[str] = []
    for word, token in HAN_GENERIC:
        if word in text:
            text = text.replace(word, " ")
            generic_found.append(token)
    for chunk in text.split():
        roman = _NON_ALNUM.sub("", ascii_text(chunk).lower())
        if roman:
            core.append(roman)
    core.extend(generic_found)
    return core, locations, legal


def _join_single_letters(tokens: list[str]) -> list[str]:
    """"s p a" -> "spa", "b v" -> "bv", "u k" -> "uk": dotted abbreviations come apart."""
    out: list[str] = []
    run: list[str] = []
    for token in tokens:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(token)
    if run:
        out.append("".join(run))
    return out


def _latin_tokens(text: str) -> list[str]:
    folded = ascii_text(text).lower()
    folded = folded.replace("&", " and ").replace("'", "").replace("’", "")
    folded = " " + _NON_ALNUM.sub(" ", folded) + " "
    for phrase, token in LOCATION_PHRASES:
        if f" {phrase} " in folded:
            folded = folded.replace(f" {phrase} ", f" {token} ")
    for phrase, token in PINYIN_PHRASES:
        if f" {phrase} " in folded:
            folded = folded.replace(f" {phrase} ", f" {token} ")
    for phrase, token in LEGAL_PHRASES:
        if f" {phrase} " in folded:
            folded = folded.replace(f" {phrase} ", f" {token} ")
    return _join_single_letters(folded.split())


@lru_cache(maxsize=262144)
def normalise(text: str, person: bool = False) -> NameForm:
    """Classify the tokens of one name. `person=True` keeps every token as identity."""
    raw = unicodedata.normalize("NFKC", text).translate(_BRACKETS).strip()
    core: list[str] = []
    locations: list[str] = []
    legal: list[str] = []
    han = False
    pos = 0
    for match in _HAN_RE.finditer(raw):
        han = True
        before = raw[pos:match.start()]
        _classify(_latin_tokens(before), core, locations, legal, person)
        h_core, h_loc, h_legal = _han_segment(match.group())
        core.extend(h_core)
        locations.extend(h_loc)
        legal.extend(h_legal)
        pos = match.end()
    _classify(_latin_tokens(raw[pos:]), core, locations, legal, person)
    if not core and locations:
        # A name that is only a place ("China", "Hangzhou") is its own identity.
        core, locations = locations, []
    if not core and legal and not person:
        core = legal
        legal = []
    return NameForm(
        text=text,
        core=tuple(dict.fromkeys(core)),
        locations=tuple(dict.fromkeys(locations)),
        legal=tuple(dict.fromkeys(legal)),
        han=han,
    )


def _classify(tokens: list[str], core: list[str], locations: list[str], legal: list[str],
              person: bool) -> None:
    for token in tokens:
        if person:
            if token not in STOPWORDS:
                core.append(token)
            continue
        if token in STOPWORDS:
            continue
        if token in LEGAL_FORMS:
            legal.append(token)
        elif token in LOCATIONS:
            locations.append(LOCATION_CANON.get(token, token))
        else:
            core.append(TOKEN_CANON.get(token, token))


def skeleton(token: str) -> str:
    """A cheap phonetic key: first letter, then consonants with runs collapsed
    ("hikvison" and "hikvision" -> "hkvsn")."""
    if not token:
        return token
    out = [token[0]]
    for ch in token[1:]:
        if ch in "aeiouyhw":
            continue
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def country_code(value: str | None) -> str | None:
    """ISO-3166 alpha-2 (lower case) from a code or a country name; None when unknown."""
    if not value:
        return None
    v = value.strip().lower()
    if len(v) == 2 and v.isalpha():
        return "gb" if v == "uk" else v
    folded = "".join(_latin_tokens(v))
    return LOCATIONS.get(folded) or None
