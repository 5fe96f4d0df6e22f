"""Synthetic demo data for ``motcua init --demo``.

Everything here is invented: one commune agency, its staff, an agency API client, and a
population of families (couples, children, grandparents, single, divorced and widowed adults)
with the civil-status results they would hold in the results store (marriage and birth
certificates). Names are built from Faker's ``vi_VN`` lists; personal ids follow the real
12-digit structure but are random. The same seed (and the same ``now``) gives the same data.

``seed_demo`` works in the caller's session and never commits: the caller's unit of work does.
"""
from __future__ import annotations

import datetime as dt
import random
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from faker import Faker
from faker.providers.person.vi_VN import Provider as _ViPersonProvider
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.adapters.models import Account, Agency, Person, Result, ResultHolder
from engine.rules.prefill import date_in_words

DEMO_PASSWORD = "motcua-demo"

AGENCY_CODE = "000.00.25.H26"  # invented, in the shape of the Circular 01/2018 agency codes
AGENCY_NAME_VI = "Ủy ban nhân dân phường Ba Đình"
AGENCY_NAME_EN = "People's Committee of Ba Dinh Ward"
AGENCY_ADDRESS = "Số 25 phố Quán Thánh, phường Ba Đình, thành phố Hà Nội"

# The agency client reads results on behalf of the city police (e.g. residence registration).
CLIENT_AGENCY_CODE = "000.00.31.H26"  # invented as well
CLIENT_AGENCY_NAME_VI = "Công an thành phố Hà Nội"
CLIENT_AGENCY_NAME_EN = "Hanoi City Police"
CLIENT_AGENCY_ADDRESS = "Số 87 phố Trần Hưng Đạo, phường Cửa Nam, thành phố Hà Nội"
CLIENT_USERNAME = "agency"
CLIENT_EVIDENCE = ["marriage-certificate", "birth-certificate"]

# A hospital that issues medical birth notices and death notices and deposits them, signed, through
# the API (POST /api/v1/results); its signing key is derived from the demo's seed.
HOSPITAL_AGENCY_CODE = "000.00.41.H26"  # invented as well
HOSPITAL_NAME_VI = "Bệnh viện Đa khoa Xanh Pôn"
HOSPITAL_NAME_EN = "Saint Paul General Hospital"
HOSPITAL_ADDRESS = "Số 12 phố Chu Văn An, phường Ba Đình, thành phố Hà Nội"
HOSPITAL_USERNAME = "hospital"
HOSPITAL_EVIDENCE = ["medical-birth-notice", "death-notice"]

STAFF_ROLES = ("clerk", "specialist", "leader", "records", "admin")

ID_ISSUER = "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
NATIONALITY = "Việt Nam"

MARRIAGE_PROCEDURE = "marriage-registration"
BIRTH_PROCEDURE = "birth-registration"

ADULT_AGE = 18
MARRIAGE_AGE = {"female": 18, "male": 20}  # Law on Marriage and Family 2014, Art. 8(1)(a)


@dataclass(frozen=True)
class DemoSummary:
    agency_code: str
    staff: dict[str, str]  # role username -> display name
    agency_client: str
    people: int
    scenarios: dict
    password: str


# ---------------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------------

# Province codes of birth registration (the first three digits of a personal id), with a few
# districts of each as they were named before the 2025 reform (home towns and places of birth
# are recorded as they were when registered).
PROVINCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "001": ("thành phố Hà Nội",
            ("huyện Đông Anh", "huyện Gia Lâm", "huyện Thường Tín", "huyện Ba Vì", "huyện Sóc Sơn")),
    "004": ("tỉnh Cao Bằng", ("huyện Trùng Khánh", "huyện Hòa An")),
    "006": ("tỉnh Bắc Kạn", ("huyện Chợ Đồn", "huyện Ba Bể")),
    "011": ("tỉnh Điện Biên", ("huyện Tuần Giáo", "huyện Điện Biên")),
    "014": ("tỉnh Sơn La", ("huyện Mai Sơn", "huyện Thuận Châu")),
    "017": ("tỉnh Hòa Bình", ("huyện Tân Lạc", "huyện Lạc Sơn")),
    "020": ("tỉnh Lạng Sơn", ("huyện Tràng Định", "huyện Cao Lộc")),
    "025": ("tỉnh Phú Thọ", ("huyện Lâm Thao", "huyện Thanh Sơn")),
    "026": ("tỉnh Vĩnh Phúc", ("huyện Vĩnh Tường", "huyện Yên Lạc")),
    "027": ("tỉnh Bắc Ninh", ("huyện Tiên Du", "huyện Gia Bình")),
    "030": ("tỉnh Hải Dương", ("huyện Gia Lộc", "huyện Thanh Miện")),
    "033": ("tỉnh Hưng Yên", ("huyện Khoái Châu", "huyện Văn Giang")),
    "034": ("tỉnh Thái Bình", ("huyện Kiến Xương", "huyện Tiền Hải", "huyện Vũ Thư")),
    "035": ("tỉnh Hà Nam", ("huyện Lý Nhân", "huyện Thanh Liêm")),
    "036": ("tỉnh Nam Định", ("huyện Hải Hậu", "huyện Giao Thủy", "huyện Ý Yên")),
    "037": ("tỉnh Ninh Bình", ("huyện Kim Sơn", "huyện Yên Khánh")),
    "038": ("tỉnh Thanh Hóa", ("huyện Hoằng Hóa", "huyện Nga Sơn", "huyện Thọ Xuân")),
    "040": ("tỉnh Nghệ An", ("huyện Diễn Châu", "huyện Quỳnh Lưu", "huyện Nam Đàn", "huyện Con Cuông")),
    "042": ("tỉnh Hà Tĩnh", ("huyện Can Lộc", "huyện Đức Thọ")),
    "079": ("Thành phố Hồ Chí Minh", ("Quận 5", "Quận 11")),
    "084": ("tỉnh Trà Vinh", ("huyện Trà Cú", "huyện Cầu Ngang")),
    "094": ("tỉnh Sóc Trăng", ("huyện Mỹ Xuyên", "huyện Trần Đề")),
}
HANOI = "001"
HANOI_URBAN_DISTRICTS = ("quận Ba Đình", "quận Hoàn Kiếm", "quận Đống Đa", "quận Tây Hồ", "quận Cầu Giấy")
MATERNITY_HOSPITALS = (
    "Bệnh viện Phụ sản Hà Nội",
    "Bệnh viện Phụ sản Trung ương",
    "Bệnh viện Đa khoa Xanh Pôn",
    "Bệnh viện Bạch Mai",
)

# Ethnic group -> (weight, provinces of origin, family names beyond the common Kinh ones)
ETHNICITIES: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "Kinh": (880, ("001", "001", "001", "025", "026", "027", "030", "033", "034", "035", "036", "037", "038",
                   "040", "042"), ()),
    "Tày": (30, ("004", "006", "020"), ("Hoàng", "Nông", "Lương", "Ma", "Lục", "Hà")),
    "Mường": (25, ("017", "025", "038"), ("Bùi", "Đinh", "Quách", "Hà", "Xa")),
    "Thái": (20, ("014", "011", "040"), ("Lò", "Cầm", "Lường", "Quàng", "Vi", "Hà")),
    "Hoa": (20, ("079", "001"), ("Lý", "Trương", "Quách", "Lâm", "Mạc", "Hứa")),
    "Nùng": (15, ("020", "004"), ("Hoàng", "Nông", "Lương", "Vi", "Lăng")),
    "Khmer": (10, ("094", "084"), ("Thạch", "Sơn", "Danh", "Kim", "Lâm")),
}

# Faker's vi_VN family names, weighted roughly by their frequency, plus a few it lacks.
KINH_FAMILY_NAMES: dict[str, int] = {name: 3 for name in _ViPersonProvider.last_names}
KINH_FAMILY_NAMES.update({"Nguyễn": 38, "Trần": 11, "Lê": 9, "Phạm": 7, "Hoàng": 5, "Vũ": 4})
KINH_FAMILY_NAMES.update({"Phan": 4, "Đỗ": 2, "Ngô": 2, "Hồ": 1, "Đinh": 1, "Trịnh": 1, "Đào": 1, "Lý": 1})

# Given names by sex: Faker's lists (its unisex names go to the sex they are mostly given to)
# with more common names added.
FEMALE_GIVEN = tuple(dict.fromkeys(
    _ViPersonProvider.first_names_female
    + ("An", "Hà", "Hạnh", "Kim", "Phương")
    + ("Hoa", "Hằng", "Huyền", "Trang", "Nhung", "Thủy", "Loan", "Oanh", "Dung", "Nga", "Nhi", "Anh",
       "Giang", "Quỳnh", "Trâm", "My", "Ngân", "Vy", "Uyên", "Thư", "Hiền", "Tâm", "Thu", "Diệp")
))
MALE_GIVEN = tuple(dict.fromkeys(
    _ViPersonProvider.first_names_male
    + ("Bảo", "Lâm", "Thành", "Nhật", "Khoa", "Hải")
    + ("Hùng", "Cường", "Tuấn", "Long", "Sơn", "Đạt", "Hiếu", "Khánh", "Kiên", "Thắng", "Toàn", "Việt",
       "Đức", "Phong", "Bình", "Thịnh", "Duy", "Khôi", "Đăng", "Nguyên", "Lộc", "Tiến", "Hiển")
))
# Faker's middle names are not split by sex ("Thị" is for women, "Văn" for men), so these are.
FEMALE_MIDDLE_OLDER = {"Thị": 14, "Thu": 1, "Thanh": 1, "Minh": 1, "Ngọc": 1, "Kim": 1, "Hồng": 1}
FEMALE_MIDDLE_YOUNGER = {"Thị": 4, "Ngọc": 2, "Thu": 1, "Thanh": 1, "Minh": 2, "Phương": 1, "Khánh": 1,
                         "Bảo": 1, "Thùy": 1, "Diệu": 1, "Hải": 1, "Quỳnh": 1, "Mai": 1, "Hoài": 1, "Tuệ": 1}
MALE_MIDDLE_OLDER = {"Văn": 10, "Đức": 2, "Hữu": 2, "Xuân": 1, "Quang": 1, "Minh": 1, "Công": 1,
                     "Mạnh": 1, "Đình": 1, "Trọng": 1}
MALE_MIDDLE_YOUNGER = {"Văn": 3, "Minh": 2, "Đức": 2, "Quang": 1, "Gia": 1, "Hoàng": 1, "Anh": 1,
                       "Tuấn": 1, "Bảo": 1, "Trung": 1, "Thành": 1, "Hữu": 1, "Duy": 1, "Đăng": 1, "Nhật": 1}

RELIGIONS = {"Không": 80, "Phật giáo": 12, "Công giáo": 8}

# Wards of Hà Nội after the 2025 reform (Resolution 1656/NQ-UBTVQH15) and some of their streets.
WARDS: dict[str, tuple[str, ...]] = {
    "phường Ba Đình": ("phố Quán Thánh", "phố Phan Đình Phùng", "đường Hoàng Hoa Thám", "phố Hòe Nhai",
                       "phố Hàng Bún", "phố Nguyễn Trường Tộ", "phố Phó Đức Chính", "phố Trúc Bạch",
                       "phố Châu Long", "phố Yên Ninh", "phố Lý Nam Đế", "phố Nguyễn Thái Học",
                       "đường Điện Biên Phủ", "phố Trần Phú"),
    "phường Ngọc Hà": ("phố Ngọc Hà", "phố Đội Cấn", "phố Liễu Giai", "phố Văn Cao", "phố Đốc Ngữ",
                       "phố Vĩnh Phúc", "phố Cống Vị"),
    "phường Giảng Võ": ("phố Giảng Võ", "phố Kim Mã", "phố Núi Trúc", "phố Giang Văn Minh", "phố Đào Tấn",
                        "phố Linh Lang", "phố Vạn Phúc"),
}
HOME_WARD = "phường Ba Đình"
CITY = "thành phố Hà Nội"
# Codes of the wards' administrative units (invented, in the five-digit shape of the national list).
WARD_UNITS = {"phường Ba Đình": "00004", "phường Ngọc Hà": "00008", "phường Giảng Võ": "00031"}
AGENCY_UNIT = WARD_UNITS[HOME_WARD]
AGENCY_PLACE = "Hà Nội"  # the place name on the date line of the agency's papers
CLIENT_AGENCY_UNIT = "01"  # the city


def unit_of(address: str | None) -> str | None:
    """The administrative unit code of a demo address (by its ward's name)."""
    if not address:
        return None
    return next((code for ward, code in WARD_UNITS.items() if f", {ward}," in address), None)

# Mobile prefixes in use since the 2018 renumbering (Viettel, Vinaphone, MobiFone, others).
MOBILE_PREFIXES = ("032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
                   "081", "082", "083", "084", "085", "088", "091", "094", "070", "076", "077", "078",
                   "079", "089", "090", "093", "056", "058")
# Reserved example domains (RFC 2606): a demo must never mail a real address.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Household kinds and their weights after the fixed opening ones (see _Generator.run).
HOUSEHOLD_KINDS = {
    "young_couple": 10,
    "family": 38,
    "three_generations": 14,
    "single": 16,
    "divorced": 7,
    "widowed": 7,
    "elderly_couple": 8,
}


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------

def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def century_sex_digit(sex: str, born: dt.date) -> str:
    """The fourth digit of a personal id (Decree 137/2015, Art. 7): century of birth and sex."""
    century = (born.year // 100) - 19  # 0 for the 1900s, 1 for the 2000s, ...
    return str(century * 2 + (1 if sex == "female" else 0))


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# ---------------------------------------------------------------------------------------------
# The generator: pure Python, no database
# ---------------------------------------------------------------------------------------------

@dataclass
class _Marriage:
    husband: int  # index into _Generator.people
    wife: int
    on: dt.date
    husband_order: int = 1
    husband_prior: str = "single"
    wife_residence: str = ""
    copies: int = 0


@dataclass
class _Birth:
    child: int
    registered_on: dt.date
    requester: str  # "father" | "mother"
    registration_type: str  # "on_time" | "late"
    absent_father: dict | None = None  # the father when he is not in the register
    absent_mother: dict | None = None
    copies: int = 0


@dataclass
class _Generator:
    seed: int
    today: dt.date
    people: list[dict] = field(default_factory=list)
    marriages: list[_Marriage] = field(default_factory=list)
    births: list[_Birth] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.fake = Faker("vi_VN")
        # Instance seeding: the same data every time without touching Faker's shared random.
        self.fake.seed_instance(self.seed)
        self._ids: set[str] = set()
        self._phones: set[str] = set()
        self._emails: set[str] = set()
        self._names: set[str] = set()
        self._household = 0
        # Results issued by the demo are all dated before the current year, so their numbers
        # ("{seq}/{year}/TP-KH") never meet the numbers that the running system gives this year.
        self.last_result_day = dt.date(self.today.year, 1, 1) - dt.timedelta(days=1)

    # -- random helpers ---------------------------------------------------------------------

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _born_aged(self, age: int) -> dt.date:
        """A birth date of someone exactly ``age`` years old today."""
        return _add_years(self.today, -age) - dt.timedelta(days=self.rng.randint(1, 364))

    def _days_after(self, day: dt.date, low: int, high: int) -> dt.date:
        return day + dt.timedelta(days=self.rng.randint(low, high))

    def _office_day(self, day: dt.date) -> dt.date:
        """Move a day off the weekend (back to Friday) for a registration at the counter."""
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        return day

    # -- identity pieces ----------------------------------------------------------------------

    def personal_id(self, province: str, sex: str, born: dt.date) -> str:
        while True:
            pid = f"{province}{century_sex_digit(sex, born)}{born.year % 100:02d}{self.rng.randrange(10**6):06d}"
            if pid not in self._ids:
                self._ids.add(pid)
                return pid

    def phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def email(self, full_name: str, born: dt.date) -> str:
        words = _ascii(full_name).lower().split()
        local = self.rng.choice((
            f"{words[-1]}{words[0]}{born.year % 100:02d}",
            f"{words[-1]}.{words[0]}",
            "".join(w[0] for w in words[:-1]) + words[-1] + str(born.year),
        ))
        candidate, n = local, 1
        while f"{candidate}@" in self._emails:
            n += 1
            candidate = f"{local}{n}"
        self._emails.add(f"{candidate}@")
        return f"{candidate}@{self.rng.choice(EMAIL_DOMAINS)}"

    def family_name(self, ethnicity: str) -> str:
        own = ETHNICITIES[ethnicity][2]
        if own and self.rng.random() < 0.7:
            return self.rng.choice(own)
        return self._weighted(KINH_FAMILY_NAMES)

    def given_names(self, sex: str, born: dt.date) -> str:
        older = born.year < 1985
        if sex == "female":
            middles = FEMALE_MIDDLE_OLDER if older else FEMALE_MIDDLE_YOUNGER
            pool = FEMALE_GIVEN
        else:
            middles = MALE_MIDDLE_OLDER if older else MALE_MIDDLE_YOUNGER
            pool = MALE_GIVEN
        middle = self._weighted(middles)
        given = self.fake.random_element(pool)
        while given == middle:
            given = self.fake.random_element(pool)
        return f"{middle} {given}"

    def full_name(self, sex: str, born: dt.date, family: str) -> str:
        """Family name, middle name, given name; a few draws to avoid namesakes in the demo."""
        for _ in range(8):
            name = f"{family} {self.given_names(sex, born)}"
            if name.split()[1] != family and name not in self._names:
                break
        self._names.add(name)
        return name

    def origin(self, ethnicity: str) -> tuple[str, str]:
        """(province code, home town) of someone of that ethnicity."""
        province = self.rng.choice(ETHNICITIES[ethnicity][1])
        name, districts = PROVINCES[province]
        return province, f"{self.rng.choice(districts)}, {name}"

    def address(self, ward: str | None = None) -> str:
        ward = ward or (HOME_WARD if self.rng.random() < 0.8 else self.rng.choice(list(WARDS)))
        street = self.rng.choice(WARDS[ward])
        number = self.rng.randint(1, 180)
        if self.rng.random() < 0.45:
            lane = self.rng.randint(2, 120)
            return f"Số {number}, ngõ {lane} {street}, {ward}, {CITY}"
        return f"Số {number} {street}, {ward}, {CITY}"

    # -- people -------------------------------------------------------------------------------

    def person(self, household: dict, *, sex: str, born: dt.date, relation: str, family: str | None = None,
               ethnicity: str | None = None, home_town: str | None = None, born_in: str | None = None,
               place_of_birth: str | None = None, marital: str = "single", father: int | None = None,
               mother: int | None = None) -> int:
        """Add one person to the register; ``born_in`` is the province code of birth registration."""
        ethnicity = ethnicity or household["ethnicity"]
        if home_town is None or born_in is None:
            province, town = self.origin(ethnicity)
            home_town = home_town or town
            if born_in is None:
                if self.rng.random() < 0.5:  # born in the home town, moved to Hà Nội later
                    born_in, place_of_birth = province, town
                else:
                    born_in = HANOI
        if place_of_birth is None:
            place_of_birth = f"{self.rng.choice(HANOI_URBAN_DISTRICTS)}, {CITY}"
        family = family or self.family_name(ethnicity)
        full_name = self.full_name(sex, born, family)
        age = age_on(born, self.today)
        religion = household["religion"] if self.rng.random() < 0.9 else self._weighted(RELIGIONS)
        row = {
            "personal_id": self.personal_id(born_in, sex, born),
            "full_name": full_name,
            "date_of_birth": born,
            "sex": sex,
            "ethnicity": ethnicity,
            "nationality": NATIONALITY,
            "religion": religion,
            "home_town": home_town,
            "place_of_birth": place_of_birth,
            "permanent_address": household["address"],
            "current_address": household["address"],
            # Phones and identity cards from the age of 14 (Law on Identity 2023, Art. 19).
            "phone": self.phone() if age >= 14 else None,
            "email": self.email(full_name, born) if age >= ADULT_AGE else None,
            "marital_status": marital,
            "id_issued_on": self.id_issued_on(born) if age >= 14 else None,
            "id_issued_by": ID_ISSUER if age >= 14 else None,
            "household_id": household["id"],
            "relation_to_head": relation,
            "date_of_death": None,
            "_father": father,
            "_mother": mother,
            "_spouse": None,
        }
        if age >= ADULT_AGE and self.rng.random() < 0.08:  # studying or working elsewhere in the city
            row["current_address"] = self.address()
        self.people.append(row)
        return len(self.people) - 1

    def id_issued_on(self, born: dt.date) -> dt.date:
        first = max(dt.date(2021, 3, 1), _add_years(born, 14))
        last = self.today - dt.timedelta(days=30)
        if first >= last:  # just turned 14
            return first
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def new_household(self) -> dict:
        self._household += 1
        ethnicity = self._weighted({k: v[0] for k, v in ETHNICITIES.items()})
        religion = self._weighted(RELIGIONS)
        if ethnicity == "Khmer":
            religion = "Phật giáo"
        return {
            "id": f"HK-{self._household:06d}",
            "ethnicity": ethnicity,
            "religion": religion,
            "address": self.address(),
        }

    def marry(self, husband: int, wife: int, on: dt.date, *, prior: str = "single") -> None:
        self.people[husband]["_spouse"] = wife
        self.people[wife]["_spouse"] = husband
        self.people[husband]["marital_status"] = "married"
        self.people[wife]["marital_status"] = "married"
        self.marriages.append(_Marriage(
            husband=husband, wife=wife, on=self._office_day(on),
            husband_order=1 if prior == "single" else 2, husband_prior=prior,
            wife_residence=self.address(), copies=self.rng.choice((0, 0, 1, 2)),
        ))

    def couple(self, household: dict, *, married_on: dt.date, wife_age_then: int, husband_head: bool = True,
               husband_relation: str | None = None, wife_relation: str | None = None,
               husband: int | None = None) -> tuple[int, int]:
        """A married couple (the husband may already exist, e.g. the son of a senior couple)."""
        wife_born = _add_years(married_on, -wife_age_then) - dt.timedelta(days=self.rng.randint(1, 364))
        if husband is None:
            gap = self.rng.randint(-2, 7)
            husband_born = _add_years(wife_born, -gap) + dt.timedelta(days=self.rng.randint(-150, 150))
            if age_on(husband_born, married_on) < MARRIAGE_AGE["male"] + 1:
                husband_born = _add_years(married_on, -(MARRIAGE_AGE["male"] + 1)) - dt.timedelta(days=30)
            husband = self.person(household, sex="male", born=husband_born,
                                  relation=husband_relation or ("Chủ hộ" if husband_head else "Chồng"))
        # The wife may be of another ethnic group than her husband's household.
        ethnicity = household["ethnicity"]
        if self.rng.random() < 0.1:
            ethnicity = self._weighted({k: v[0] for k, v in ETHNICITIES.items()})
        wife = self.person(household, sex="female", born=wife_born, ethnicity=ethnicity,
                           relation=wife_relation or ("Vợ" if husband_head else "Chủ hộ"))
        prior = "divorced" if self.rng.random() < 0.05 else "single"
        self.marry(husband, wife, married_on, prior=prior)
        return husband, wife

    def children(self, household: dict, *, father: int | None, mother: int, first_after: dt.date,
                 count: int, relation: str = "Con", father_family: str | None = None,
                 absent_father: dict | None = None, sex: str | None = None) -> list[int]:
        """Children born one after another; the mother is 20..40 at each birth."""
        mother_row = self.people[mother]
        father_row = self.people[father] if father is not None else absent_father
        family = father_row["full_name"].split()[0] if father_row else father_family
        # The child's ethnicity and home town follow one parent, as the parents agree (the father's
        # more often); keep the choice for the whole family.
        follow = father_row if father_row and self.rng.random() < 0.7 else mother_row
        born = self._days_after(first_after, 280, 1100)
        earliest = _add_years(mother_row["date_of_birth"], 20) + dt.timedelta(days=self.rng.randint(1, 200))
        born = max(born, earliest)
        kids = []
        for _ in range(count):
            if (born > self.last_result_day - dt.timedelta(days=60)
                    or age_on(mother_row["date_of_birth"], born) > 40):
                break
            child_sex = sex or self.rng.choice(("female", "male"))
            hospital = self.rng.choice(MATERNITY_HOSPITALS)
            child = self.person(household, sex=child_sex, born=born, relation=relation, family=family,
                                ethnicity=follow["ethnicity"], home_town=follow["home_town"], born_in=HANOI,
                                place_of_birth=f"{hospital}, {CITY}", father=father, mother=mother)
            kids.append(child)
            late = self.rng.random() < 0.05
            registered = self._days_after(born, 90, 400) if late else self._days_after(born, 3, 55)
            if registered > self.last_result_day:
                late, registered = False, self._days_after(born, 3, 55)
            self.births.append(_Birth(
                child=child, registered_on=self._office_day(registered),
                requester="father" if father is not None and self.rng.random() < 0.6 else "mother",
                registration_type="late" if late else "on_time",
                absent_father=absent_father if father is None else None,
                copies=self.rng.choice((0, 0, 1, 2)),
            ))
            born = self._days_after(born, 600, 2000)
        return kids

    def absent_parent(self, sex: str, born: dt.date, ethnicity: str) -> dict:
        """A parent who is not in this register (a former spouse, a parent who has died)."""
        family = self.family_name(ethnicity)
        _, home_town = self.origin(ethnicity)
        return {
            "full_name": self.full_name(sex, born, family),
            "date_of_birth": born,
            "ethnicity": ethnicity,
            "home_town": home_town,
            "residence": self.address(),
        }

    # -- households ---------------------------------------------------------------------------

    def young_couple(self) -> None:
        """Married in the last years, no child yet: they may register a birth in the demo."""
        household = self.new_household()
        married_on = self.last_result_day - dt.timedelta(days=self.rng.randint(30, 1400))
        self.couple(household, married_on=married_on, wife_age_then=self.rng.randint(21, 31))

    def family(self, *, recent: bool = False) -> None:
        household = self.new_household()
        years = self.rng.randint(3, 8) if recent else self.rng.choice(
            (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 25, 28, 32, 36))
        married_on = _add_years(self.last_result_day, -years) - dt.timedelta(days=self.rng.randint(0, 300))
        husband, wife = self.couple(household, married_on=married_on, wife_age_then=self.rng.randint(20, 30),
                                    husband_head=self.rng.random() < 0.9)
        count = 1 if recent else self.rng.choices((1, 2, 3), weights=(30, 50, 20))[0]
        self.children(household, father=husband, mother=wife, first_after=married_on, count=count)

    def three_generations(self) -> None:
        """A senior couple (or a widowed parent), their son, his wife and their children."""
        household = self.new_household()
        senior_married = _add_years(self.today, -self.rng.randint(30, 56))
        senior_married -= dt.timedelta(days=self.rng.randint(0, 300))
        father_head = self.rng.random() < 0.35
        alive = self.rng.choices(("both", "mother", "father"), weights=(55, 35, 10))[0]
        grandma_born = _add_years(senior_married, -self.rng.randint(20, 26)) - dt.timedelta(
            days=self.rng.randint(1, 364))
        grandpa_born = _add_years(grandma_born, -self.rng.randint(0, 6)) - dt.timedelta(
            days=self.rng.randint(1, 200))
        grandpa = grandma = None
        absent_father = None
        widowed = "widowed" if alive != "both" else "married"
        if alive in ("both", "father"):
            grandpa = self.person(household, sex="male", born=grandpa_born, marital=widowed,
                                  relation="Chủ hộ" if father_head else "Cha")
        else:
            absent_father = self.absent_parent("male", grandpa_born, household["ethnicity"])
        if alive in ("both", "mother"):
            head_is_grandma = father_head and grandpa is None
            grandma = self.person(household, sex="female", born=grandma_born, marital=widowed,
                                  relation="Chủ hộ" if head_is_grandma else ("Vợ" if father_head else "Mẹ"))
        if grandpa is not None and grandma is not None:
            self.marry(grandpa, grandma, senior_married)
        if grandma is None:  # the son's mother has died; she is not in the register
            absent_mother = self.absent_parent("female", grandma_born, household["ethnicity"])
            son_born = self._days_after(senior_married, 300, 1500)
            son_family = self.people[grandpa]["full_name"].split()[0]
            son = self.person(household, sex="male", born=son_born, relation="Con" if father_head else "Chủ hộ",
                              family=son_family, home_town=self.people[grandpa]["home_town"], born_in=HANOI,
                              place_of_birth=f"{self.rng.choice(MATERNITY_HOSPITALS)}, {CITY}", father=grandpa)
            self.births.append(_Birth(child=son, registered_on=self._office_day(self._days_after(son_born, 5, 50)),
                                      requester="father", registration_type="on_time",
                                      absent_mother=absent_mother))
        else:
            kids = self.children(household, father=grandpa, mother=grandma, first_after=senior_married, count=1,
                                 relation="Con" if father_head else "Chủ hộ", absent_father=absent_father,
                                 sex="male")
            if not kids:
                return
            son = kids[0]
        son_born = self.people[son]["date_of_birth"]
        married_on = _add_years(son_born, self.rng.randint(23, 32)) + dt.timedelta(days=self.rng.randint(0, 300))
        if married_on > self.last_result_day - dt.timedelta(days=400):
            return  # the son is still single
        son, wife = self.couple(household, married_on=married_on, wife_age_then=self.rng.randint(20, 30),
                                husband=son, wife_relation="Con dâu" if father_head else "Vợ")
        self.children(household, father=son, mother=wife, first_after=married_on,
                      count=self.rng.choices((1, 2, 3), weights=(35, 50, 15))[0],
                      relation="Cháu" if father_head else "Con")

    def single(self, sex: str | None = None, *, young: bool = True) -> None:
        household = self.new_household()
        sex = sex or self.rng.choice(("female", "male"))
        age = self.rng.randint(MARRIAGE_AGE[sex] + 2, 36) if young else self.rng.randint(37, 60)
        self.person(household, sex=sex, born=self._born_aged(age), relation="Chủ hộ")

    def divorced(self) -> None:
        household = self.new_household()
        sex = "female" if self.rng.random() < 0.6 else "male"
        age = self.rng.randint(30, 55)
        born = self._born_aged(age)
        head = self.person(household, sex=sex, born=born, relation="Chủ hộ", marital="divorced")
        if sex == "female" and self.rng.random() < 0.75:
            former = self.absent_parent("male", born - dt.timedelta(days=self.rng.randint(0, 2000)),
                                        household["ethnicity"])
            married_on = _add_years(born, self.rng.randint(21, 28))
            self.children(household, father=None, mother=head, first_after=married_on,
                          count=self.rng.choice((1, 2)), absent_father=former)

    def widowed(self) -> None:
        household = self.new_household()
        sex = "female" if self.rng.random() < 0.75 else "male"
        age = self.rng.randint(62, 90)
        born = self._born_aged(age)
        head = self.person(household, sex=sex, born=born, relation="Chủ hộ", marital="widowed")
        if self.rng.random() < 0.5:  # an unmarried adult child lives with the widowed parent
            other_born = born + dt.timedelta(days=self.rng.randint(-1500, 1500))
            other = self.absent_parent("male" if sex == "female" else "female", other_born, household["ethnicity"])
            married_on = _add_years(max(born, other["date_of_birth"]), self.rng.randint(22, 30))
            first_after = max(married_on, _add_years(self.today, -40))
            mother_born = born if sex == "female" else other["date_of_birth"]
            if age_on(mother_born, first_after) <= 38:
                if sex == "female":
                    self.children(household, father=None, mother=head, first_after=first_after, count=1,
                                  absent_father=other)
                else:
                    self._child_of_widower(household, head, other, first_after)

    def _child_of_widower(self, household: dict, father: int, mother: dict, first_after: dt.date) -> None:
        born = self._days_after(first_after, 280, 900)
        if born > self.last_result_day - dt.timedelta(days=60) or age_on(mother["date_of_birth"], born) < 20:
            return
        father_row = self.people[father]
        child = self.person(household, sex=self.rng.choice(("female", "male")), born=born, relation="Con",
                            family=father_row["full_name"].split()[0], ethnicity=father_row["ethnicity"],
                            home_town=father_row["home_town"], born_in=HANOI,
                            place_of_birth=f"{self.rng.choice(MATERNITY_HOSPITALS)}, {CITY}", father=father)
        self.births.append(_Birth(child=child, registered_on=self._office_day(self._days_after(born, 5, 50)),
                                  requester="father", registration_type="on_time", absent_mother=mother))

    def elderly_couple(self) -> None:
        """A senior couple whose children have their own homes elsewhere."""
        household = self.new_household()
        married_on = _add_years(self.today, -self.rng.randint(35, 60))
        married_on -= dt.timedelta(days=self.rng.randint(0, 300))
        self.couple(household, married_on=married_on, wife_age_then=self.rng.randint(19, 27))

    def run(self, people: int) -> None:
        # Fixed opening households, so that the scenarios exist for any size of population.
        opening = [self.young_couple, lambda: self.family(recent=True), self.three_generations]
        opening += [lambda s=s: self.single(s) for s in ("female", "male") * 3]
        builders = {
            "young_couple": self.young_couple,
            "family": self.family,
            "three_generations": self.three_generations,
            "single": lambda: self.single(young=self.rng.random() < 0.8),
            "divorced": self.divorced,
            "widowed": self.widowed,
            "elderly_couple": self.elderly_couple,
        }
        for build in opening:
            build()
        while len(self.people) < people:
            builders[self._weighted(HOUSEHOLD_KINDS)]()


# ---------------------------------------------------------------------------------------------
# Forms of the earlier results (field ids of procedures/*/procedure.yaml)
# ---------------------------------------------------------------------------------------------

def _marriage_form(gen: _Generator, marriage: _Marriage) -> dict:
    husband, wife = gen.people[marriage.husband], gen.people[marriage.wife]
    return {
        "wife_personal_id": wife["personal_id"],
        "wife_full_name": wife["full_name"],
        "wife_date_of_birth": wife["date_of_birth"].isoformat(),
        "wife_ethnicity": wife["ethnicity"],
        "wife_nationality": wife["nationality"],
        "wife_residence": marriage.wife_residence,
        "wife_marriage_order": 1,
        "wife_marital_status": "single",
        "husband_personal_id": husband["personal_id"],
        "husband_full_name": husband["full_name"],
        "husband_date_of_birth": husband["date_of_birth"].isoformat(),
        "husband_ethnicity": husband["ethnicity"],
        "husband_nationality": husband["nationality"],
        "husband_residence": husband["permanent_address"],
        "husband_marriage_order": marriage.husband_order,
        "husband_marital_status": marriage.husband_prior,
        "copies_requested": marriage.copies > 0,
        "copies_count": marriage.copies,
    }


def _parent_fields(prefix: str, row: dict | None, *, in_register: bool) -> dict:
    if row is None:
        return {f"{prefix}_{key}": None for key in
                ("full_name", "birth_year", "ethnicity", "nationality", "residence", "personal_id")}
    return {
        f"{prefix}_full_name": row["full_name"],
        f"{prefix}_birth_year": row["date_of_birth"].year,
        f"{prefix}_ethnicity": row["ethnicity"],
        f"{prefix}_nationality": row.get("nationality", NATIONALITY),
        f"{prefix}_residence": row["permanent_address"] if in_register else row["residence"],
        f"{prefix}_personal_id": row["personal_id"] if in_register else None,
    }


def _birth_form(gen: _Generator, birth: _Birth) -> dict:
    child = gen.people[birth.child]
    father = gen.people[child["_father"]] if child["_father"] is not None else None
    mother = gen.people[child["_mother"]] if child["_mother"] is not None else None
    requester = father if birth.requester == "father" and father is not None else (mother or father)
    form = {
        "requester_full_name": requester["full_name"],
        "requester_personal_id": requester["personal_id"],
        "requester_residence": requester["permanent_address"],
        "requester_relationship": "father" if requester is father else "mother",
        "child_full_name": child["full_name"],
        "child_date_of_birth": child["date_of_birth"].isoformat(),
        "child_date_of_birth_in_words": date_in_words(child["date_of_birth"]),
        "child_sex": child["sex"],
        "child_ethnicity": child["ethnicity"],
        "child_nationality": child["nationality"],
        "child_place_of_birth": child["place_of_birth"],
        "child_home_town": child["home_town"],
        "child_personal_id": child["personal_id"],
    }
    form.update(_parent_fields("mother", mother or birth.absent_mother, in_register=mother is not None))
    form.update(_parent_fields("father", father or birth.absent_father, in_register=father is not None))
    form.update({
        "registration_type": birth.registration_type,
        "copies_requested": birth.copies > 0,
        "copies_count": birth.copies,
    })
    return form


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------

def _at_office_hours(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.choice((8, 9, 10, 11, 14, 15, 16)), rng.randrange(60)))


def _result_rows(gen: _Generator, agency_id: int, marriage_data: Callable[[dict], dict] | None,
                 birth_data: Callable[[dict], dict] | None) -> tuple[list[dict], list[dict]]:
    rng = random.Random(f"{gen.seed}/results")
    pending = []  # (issued_at, kind, form, holders)
    for marriage in gen.marriages:
        holders = [gen.people[marriage.wife]["personal_id"], gen.people[marriage.husband]["personal_id"]]
        pending.append((_at_office_hours(rng, marriage.on), "marriage", _marriage_form(gen, marriage), holders))
    for birth in gen.births:
        holders = [gen.people[birth.child]["personal_id"]]
        pending.append((_at_office_hours(rng, birth.registered_on), "birth", _birth_form(gen, birth), holders))
    pending.sort(key=lambda item: (item[0], item[1], item[3]))

    kinds = {
        "marriage": (MARRIAGE_PROCEDURE, "marriage-certificate", "TP-KH", marriage_data),
        "birth": (BIRTH_PROCEDURE, "birth-certificate", "TP-KS", birth_data),
    }
    sequences: dict[tuple[str, int], int] = {}
    results, holders_rows = [], []
    for issued_at, kind, form, holders in pending:
        procedure, evidence, suffix, transform = kinds[kind]
        seq = sequences[kind, issued_at.year] = sequences.get((kind, issued_at.year), 0) + 1
        result_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        results.append({
            "id": result_id,
            "number": f"{seq}/{issued_at.year}/{suffix}",
            "dossier_id": None,
            "procedure_id": procedure,
            "procedure_version": 1,
            "result_key": evidence,
            "evidence_type": evidence,
            "issuer_agency_id": agency_id,
            "issued_at": issued_at,
            "valid_until": None,
            "status": "valid",
            "status_reason": None,
            "status_changed_at": None,
            "superseded_by": None,
            "data": transform(form) if transform is not None else form,
            "pdf_sha256": None,
        })
        holders_rows.extend({"result_id": result_id, "personal_id": pid} for pid in holders)
    return results, holders_rows


def seed_demo(session: Session, now: dt.datetime, *, people: int = 1200, seed: int = 2026,
              marriage_result_data: Callable[[dict], dict] | None = None,
              birth_result_data: Callable[[dict], dict] | None = None,
              hospital_public_key: str | None = None) -> DemoSummary:
    """Seed the demo agency, accounts, population and earlier results; idempotent; no commit."""
    agency = session.scalar(select(Agency).where(Agency.code == AGENCY_CODE))
    if agency is not None:
        return _summary(session, agency, now)

    agency = Agency(code=AGENCY_CODE, name_vi=AGENCY_NAME_VI, name_en=AGENCY_NAME_EN, level="commune",
                    address=AGENCY_ADDRESS, calendar="vn", unit_code=AGENCY_UNIT, province_code=HANOI,
                    place_name=AGENCY_PLACE)
    session.add(agency)
    client_agency = session.scalar(select(Agency).where(Agency.code == CLIENT_AGENCY_CODE))
    if client_agency is None:
        client_agency = Agency(code=CLIENT_AGENCY_CODE, name_vi=CLIENT_AGENCY_NAME_VI,
                               name_en=CLIENT_AGENCY_NAME_EN, level="province",
                               address=CLIENT_AGENCY_ADDRESS, calendar="vn", unit_code=CLIENT_AGENCY_UNIT,
                               province_code=HANOI, place_name=AGENCY_PLACE)
        session.add(client_agency)
    hospital = Agency(code=HOSPITAL_AGENCY_CODE, name_vi=HOSPITAL_NAME_VI, name_en=HOSPITAL_NAME_EN,
                      level="facility", address=HOSPITAL_ADDRESS, calendar="vn", unit_code=AGENCY_UNIT,
                      province_code=HANOI, place_name=AGENCY_PLACE)
    session.add(hospital)
    session.flush()

    gen = _Generator(seed=seed, today=now.date())
    gen.run(people)

    # Argon2 is slow on purpose. Demo accounts share one password, so it is hashed once and the
    # same hash string (one salt) is stored for every account: fine for synthetic data only.
    password_hash = PasswordHasher().hash(DEMO_PASSWORD)

    def account(username: str, kind: str, display_name: str, roles: list[str], *, agency_id: int | None = None,
                personal_id: str | None = None, allowed_evidence: list[str] | None = None) -> dict:
        return {
            "username": username, "kind": kind, "display_name": display_name, "password_hash": password_hash,
            "roles": roles, "agency_id": agency_id, "personal_id": personal_id,
            "allowed_evidence": allowed_evidence or [], "active": True, "created_at": now,
            "issues_evidence": [], "signing_key": None,
        }

    accounts = []
    for role in STAFF_ROLES:
        sex = gen.rng.choice(("female", "male"))
        born = gen._born_aged(gen.rng.randint(26, 55))
        name = gen.full_name(sex, born, gen._weighted(KINH_FAMILY_NAMES))
        accounts.append(account(role, "staff", name, [role], agency_id=agency.id))
    accounts.append(account(CLIENT_USERNAME, "agency_client", CLIENT_AGENCY_NAME_VI, ["agency_client"],
                            agency_id=client_agency.id, allowed_evidence=list(CLIENT_EVIDENCE)))
    accounts.append({**account(HOSPITAL_USERNAME, "agency_client", HOSPITAL_NAME_VI, ["agency_client"],
                               agency_id=hospital.id),
                     "issues_evidence": list(HOSPITAL_EVIDENCE), "signing_key": hospital_public_key})
    today = now.date()
    for row in gen.people:
        if age_on(row["date_of_birth"], today) >= ADULT_AGE:
            accounts.append(account(row["personal_id"], "citizen", row["full_name"], ["citizen"],
                                    personal_id=row["personal_id"]))
    session.execute(insert(Account), accounts)

    # People go in without their links (spouses point at each other), then the links by id.
    person_rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in gen.people]
    for row in person_rows:
        row["permanent_unit"], row["current_unit"] = unit_of(row["permanent_address"]), unit_of(row["current_address"])
    ids = dict(session.execute(insert(Person).returning(Person.personal_id, Person.id), person_rows).all())
    links = []
    for row in gen.people:
        if row["_father"] is None and row["_mother"] is None and row["_spouse"] is None:
            continue
        links.append({
            "id": ids[row["personal_id"]],
            **{f"{name}_id": ids[gen.people[row[f"_{name}"]]["personal_id"]] if row[f"_{name}"] is not None else None
               for name in ("father", "mother", "spouse")},
        })
    if links:
        session.execute(update(Person), links)

    results, holders = _result_rows(gen, agency.id, marriage_result_data, birth_result_data)
    if results:
        session.execute(insert(Result), results)
        session.execute(insert(ResultHolder), holders)
    session.flush()
    return _summary(session, agency, now)


# ---------------------------------------------------------------------------------------------
# Summary and scenarios, read back from the database (the same on every call)
# ---------------------------------------------------------------------------------------------

def _summary(session: Session, agency: Agency, now: dt.datetime) -> DemoSummary:
    staff = dict(session.execute(
        select(Account.username, Account.display_name)
        .where(Account.username.in_(STAFF_ROLES), Account.kind == "staff")
    ).all())
    return DemoSummary(
        agency_code=agency.code,
        staff={role: staff[role] for role in STAFF_ROLES if role in staff},
        agency_client=CLIENT_USERNAME,
        people=session.scalar(select(func.count(Person.id))) or 0,
        scenarios=demo_scenarios(session, agency.id, now.date()),
        password=DEMO_PASSWORD,
    )


def demo_scenarios(session: Session, agency_id: int, today: dt.date) -> dict:
    """Citizens to try, chosen by fixed rules from what is in the database (JSON-able)."""
    people = session.execute(select(
        Person.id, Person.personal_id, Person.sex, Person.date_of_birth, Person.marital_status,
        Person.spouse_id, Person.father_id, Person.mother_id, Person.household_id, Person.relation_to_head,
        Person.date_of_death, Person.permanent_unit, Person.current_unit,
    ).order_by(Person.household_id, Person.id)).all()
    area = session.scalar(select(Agency.unit_code).where(Agency.id == agency_id))
    by_id = {p.id: p for p in people}
    children: dict[int, list] = {}
    for p in people:
        for parent in {p.father_id, p.mother_id} - {None}:
            children.setdefault(parent, []).append(p)

    certificates: dict[str, dict[str, list[str]]] = {"marriage-certificate": {}, "birth-certificate": {}}
    for result_id, evidence, pid in session.execute(
        select(Result.id, Result.evidence_type, ResultHolder.personal_id)
        .join(ResultHolder, ResultHolder.result_id == Result.id)
        .where(Result.status == "valid", Result.issuer_agency_id == agency_id,
               Result.evidence_type.in_(list(certificates)))
        .order_by(Result.issued_at, Result.id)
    ):
        certificates[evidence].setdefault(pid, []).append(result_id)

    def marriage_certificate(wife, husband) -> str | None:
        common = [r for r in certificates["marriage-certificate"].get(wife.personal_id, [])
                  if r in certificates["marriage-certificate"].get(husband.personal_id, [])]
        return common[0] if common else None

    def resident_adult(p, age: int = ADULT_AGE) -> bool:
        """Alive, of age, and living in the agency's area (the conditions of its procedures ask it)."""
        return (p.date_of_death is None and age_on(p.date_of_birth, today) >= age
                and area in (p.permanent_unit, p.current_unit))

    couples = []
    for husband in people:
        wife = by_id.get(husband.spouse_id) if husband.spouse_id else None
        if (husband.sex != "male" or wife is None or wife.spouse_id != husband.id
                or husband.marital_status != "married" or wife.marital_status != "married"
                or not (resident_adult(husband) and resident_adult(wife))):
            continue
        certificate = marriage_certificate(wife, husband)
        if certificate:
            couples.append((husband, wife, certificate))

    scenarios: dict = {}
    for husband, wife, certificate in couples:
        if (not children.get(husband.id) and not children.get(wife.id)
                and 20 <= age_on(wife.date_of_birth, today) <= 40):
            scenarios["married_couple"] = {"wife": wife.personal_id, "husband": husband.personal_id,
                                           "marriage_certificate": certificate}
            break
    for husband, wife, certificate in couples:
        kids = [c for c in children.get(husband.id, []) if c.mother_id == wife.id
                and c.household_id == husband.household_id and c.personal_id in certificates["birth-certificate"]]
        if kids and age_on(max(k.date_of_birth for k in kids), today) < 10:
            child = max(kids, key=lambda k: (k.date_of_birth, k.id))
            scenarios["family_with_child"] = {
                "wife": wife.personal_id, "husband": husband.personal_id, "marriage_certificate": certificate,
                "child": child.personal_id,
                "birth_certificate": certificates["birth-certificate"][child.personal_id][0],
            }
            break
    if "married_couple" not in scenarios and couples:  # every couple has children: still name one
        husband, wife, certificate = couples[0]
        scenarios["married_couple"] = {"wife": wife.personal_id, "husband": husband.personal_id,
                                       "marriage_certificate": certificate}

    # The hospital's notices: a newborn's mother holds its birth notice; a man who has just died his
    # death notice. Named by the notices once deposited, else (before) by fixed rules.
    notices: dict[str, dict[str, str]] = {"medical-birth-notice": {}, "death-notice": {}}
    for result_id, evidence, pid in session.execute(
        select(Result.id, Result.evidence_type, ResultHolder.personal_id)
        .join(ResultHolder, ResultHolder.result_id == Result.id).join(Agency, Agency.id == Result.issuer_agency_id)
        .where(Result.status == "valid", Agency.code == HOSPITAL_AGENCY_CODE, Result.evidence_type.in_(list(notices)))
        .order_by(Result.issued_at, Result.id)
    ):
        notices[evidence].setdefault(pid, result_id)
    taken = {v for sc in scenarios.values() if isinstance(sc, dict) for v in sc.values()}
    by_pid = {p.personal_id: p for p in people}
    mother = next((by_pid[pid] for pid in notices["medical-birth-notice"] if pid in by_pid), None)
    if mother is None:
        mother = next((wife for husband, wife, _ in couples
                       if wife.personal_id not in taken and husband.personal_id not in taken
                       and not children.get(husband.id) and not children.get(wife.id)
                       and 20 <= age_on(wife.date_of_birth, today) <= 40), None)
    if mother is not None:
        father = by_id.get(mother.spouse_id) if mother.spouse_id else None
        scenarios["newborn"] = {"mother": mother.personal_id, "father": father.personal_id if father else None,
                                "birth_notice": notices["medical-birth-notice"].get(mother.personal_id)}
        taken |= {mother.personal_id, father.personal_id if father else None}
    deceased = next((by_pid[pid] for pid in notices["death-notice"] if pid in by_pid), None)
    if deceased is None:
        deceased = next((husband for husband, wife, _ in couples
                         if husband.personal_id not in taken and wife.personal_id not in taken
                         and age_on(husband.date_of_birth, today) >= 65), None)
    if deceased is not None:
        spouse = by_id.get(deceased.spouse_id) if deceased.spouse_id else None
        scenarios["recent_death"] = {"deceased": deceased.personal_id,
                                     "requester": spouse.personal_id if spouse else None,
                                     "death_notice": notices["death-notice"].get(deceased.personal_id)}

    # Unmarried adults of marriageable age, one per household (so none are related), living on
    # their own first.
    singles = sorted(
        (p for p in people if p.marital_status == "single" and resident_adult(p, MARRIAGE_AGE.get(p.sex, ADULT_AGE))),
        key=lambda p: (p.relation_to_head != "Chủ hộ", p.household_id or "", p.id),
    )
    chosen, households = {"female": [], "male": []}, set()
    for p in singles:
        if p.sex in chosen and len(chosen[p.sex]) < 3 and p.household_id not in households:
            chosen[p.sex].append(p)
            households.add(p.household_id)
    picked = sorted(chosen["female"] + chosen["male"], key=lambda p: (p.household_id or "", p.id))
    scenarios["single_adults"] = [{"personal_id": p.personal_id, "sex": p.sex} for p in picked]
    scenarios["divorced_adults"] = [{"personal_id": p.personal_id, "sex": p.sex}
                                    for p in people if p.marital_status == "divorced" and resident_adult(p)][:2]
    return scenarios
