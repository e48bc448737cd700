"""The health measure catalogue: 36 measures in five domains, after the City Health Dashboard's.

NRN's first health dashboard (2017) had 26 measures for Flint, Kansas City (Kansas), Providence and
Waco; the City Health Dashboard that grew out of it (NYU Langone, with NRN, ICMA and the National
League of Cities) launched in 2018 with 36 measures in the five domains of the County Health
Rankings. This catalogue follows that list. Each measure says what one value counts (``unit``),
whether a higher value is better or worse (``direction``), where the values come from (``source``)
and the geography the source measures it at (``geography``): ``city`` when the source estimates
the city itself (CDC PLACES model-based estimates for census places, vital records geocoded to the
city, ACS estimates for the place), ``county`` when only the county's figure exists and is shown for
the city inside it (opioid overdose deaths, primary care physicians) — a county figure says nothing
about the city's own neighborhoods, and the dashboard says so beside it.

``lo``/``hi`` are the values an import accepts (a percentage is 0–100); a value outside them is a
typing error, refused with its line. Definitions are written for city officials, not epidemiologists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Domain = Literal["health_outcomes", "health_behaviors", "clinical_care", "social_economic", "physical_environment"]
Direction = Literal["higher_is_better", "lower_is_better"]
Geography = Literal["city", "county"]

DOMAINS: dict[str, str] = {
    "health_outcomes": "Health outcomes",
    "health_behaviors": "Health behaviors",
    "clinical_care": "Clinical care",
    "social_economic": "Social and economic factors",
    "physical_environment": "Physical environment",
}
DIRECTIONS: dict[str, str] = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better"}
GEOGRAPHIES: dict[str, str] = {
    "city": "Measured for the city",
    "county": "County figure, shown for the city (the source has no city-level figure)",
}

PLACES = "CDC PLACES (model-based estimates from the Behavioral Risk Factor Surveillance System)"
NVSS = "National Vital Statistics System, NCHS (death and birth records)"
ACS = "U.S. Census Bureau, American Community Survey 5-year estimates"

PERCENT = "percent"
PER_100K = "deaths per 100,000 people, age-adjusted"


@dataclass(frozen=True)
class Measure:
    id: str
    domain: Domain
    name: str
    definition: str
    unit: str
    direction: Direction
    source: str
    geography: Geography = "city"
    lo: float = 0.0
    hi: float = 100.0
    decimals: int = 1

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"


def _m(id: str, domain: Domain, name: str, definition: str, unit: str, direction: Direction, source: str,  # noqa: A002
       geography: Geography = "city", lo: float = 0.0, hi: float = 100.0, decimals: int = 1) -> Measure:
    return Measure(id, domain, name, definition, unit, direction, source, geography, lo, hi, decimals)


LOWER, HIGHER = "lower_is_better", "higher_is_better"

CATALOGUE: tuple[Measure, ...] = (
    # --- health outcomes (11)
    _m("breast_cancer_deaths", "health_outcomes", "Breast cancer deaths",
       "Deaths from breast cancer per 100,000 women, age-adjusted to the 2000 U.S. standard population.",
       "deaths per 100,000 women, age-adjusted", LOWER, NVSS, hi=500),
    _m("cardiovascular_deaths", "health_outcomes", "Cardiovascular disease deaths",
       "Deaths from heart disease and stroke per 100,000 people, age-adjusted.", PER_100K, LOWER, NVSS, hi=2_000),
    _m("diabetes", "health_outcomes", "Diabetes",
       "Adults 18 and older who report a doctor ever told them they have diabetes (not during pregnancy).",
       "percent of adults", LOWER, PLACES),
    _m("frequent_mental_distress", "health_outcomes", "Frequent mental distress",
       "Adults 18 and older who report 14 or more days of poor mental health in the past 30 days.",
       "percent of adults", LOWER, PLACES),
    _m("frequent_physical_distress", "health_outcomes", "Frequent physical distress",
       "Adults 18 and older who report 14 or more days of poor physical health in the past 30 days.",
       "percent of adults", LOWER, PLACES),
    _m("high_blood_pressure", "health_outcomes", "High blood pressure",
       "Adults 18 and older who report a doctor ever told them they have high blood pressure.",
       "percent of adults", LOWER, PLACES),
    _m("low_birthweight", "health_outcomes", "Low birthweight",
       "Live births weighing less than 2,500 grams (about 5.5 pounds), out of all live births.",
       "percent of live births", LOWER, NVSS),
    _m("obesity", "health_outcomes", "Obesity",
       "Adults 18 and older with a body mass index of 30 or more, from reported height and weight.",
       "percent of adults", LOWER, PLACES),
    _m("opioid_overdose_deaths", "health_outcomes", "Opioid overdose deaths",
       "Deaths from opioid overdose (including heroin, prescription opioids and synthetic opioids such as "
       "fentanyl) per 100,000 people, age-adjusted. Published for the county the city is in.",
       PER_100K, LOWER, NVSS, geography="county", hi=500),
    _m("premature_deaths", "health_outcomes", "Premature deaths (all causes)",
       "Years of potential life lost before age 75 per 100,000 people, age-adjusted: every death before 75 "
       "counts the years it came early.", "years of life lost per 100,000 people", LOWER, NVSS, hi=100_000,
       decimals=0),
    _m("life_expectancy", "health_outcomes", "Life expectancy",
       "Average number of years a newborn would live at the death rates of the city's census tracts, "
       "population-weighted.", "years", HIGHER,
       "U.S. Small-Area Life Expectancy Estimates Project (USALEEP), NCHS", lo=40, hi=100),
    # --- health behaviors (5)
    _m("binge_drinking", "health_behaviors", "Binge drinking",
       "Adults 18 and older who report having 5 or more drinks (men) or 4 or more drinks (women) on one "
       "occasion in the past 30 days.", "percent of adults", LOWER, PLACES),
    _m("physical_inactivity", "health_behaviors", "Physical inactivity",
       "Adults 18 and older who report no leisure-time physical activity (running, walking for exercise, "
       "gardening, …) in the past month.", "percent of adults", LOWER, PLACES),
    _m("smoking", "health_behaviors", "Smoking",
       "Adults 18 and older who have smoked at least 100 cigarettes in their life and smoke now, every day or "
       "some days.", "percent of adults", LOWER, PLACES),
    _m("insufficient_sleep", "health_behaviors", "Insufficient sleep",
       "Adults 18 and older who report usually sleeping less than 7 hours in 24 hours.", "percent of adults",
       LOWER, PLACES),
    _m("teen_births", "health_behaviors", "Teen births",
       "Live births to women aged 15 to 19 per 1,000 women of that age.", "births per 1,000 women aged 15–19",
       LOWER, NVSS, hi=300),
    # --- clinical care (5)
    _m("dental_care", "clinical_care", "Dental care",
       "Adults 18 and older who report a visit to a dentist or dental clinic in the past year.",
       "percent of adults", HIGHER, PLACES),
    _m("preventive_services", "clinical_care", "Preventive services, 65 and older",
       "Adults 65 and older who are up to date on a core set of clinical preventive services (flu shot in the "
       "past year, pneumonia vaccine ever, colorectal cancer screening; for women, mammography in the past two "
       "years).", "percent of adults 65 and older", HIGHER, PLACES),
    _m("prenatal_care", "clinical_care", "Prenatal care",
       "Live births whose mothers began prenatal care in the first trimester of pregnancy.",
       "percent of live births", HIGHER, NVSS),
    _m("uninsured", "clinical_care", "Uninsured",
       "People under 65 without health insurance coverage of any kind.", "percent of people under 65", LOWER, ACS),
    _m("primary_care_physicians", "clinical_care", "Primary care physicians",
       "Active primary care physicians (family and general practice, internal medicine, pediatrics, "
       "obstetrics and gynecology) per 100,000 people. Published for the county the city is in.",
       "physicians per 100,000 people", HIGHER, "HRSA Area Health Resources Files", geography="county",
       hi=1_000),
    # --- social and economic factors (9)
    _m("high_school_completion", "social_economic", "High school completion",
       "Adults 25 and older with at least a high school diploma or equivalent (GED).", "percent of adults 25+",
       HIGHER, ACS),
    _m("third_grade_reading", "social_economic", "Third-grade reading proficiency",
       "Public school third-graders who scored proficient or better on their state's reading test.",
       "percent of third-graders", HIGHER, "State assessment results via the Stanford Education Data Archive"),
    _m("chronic_absenteeism", "social_economic", "Chronic absenteeism",
       "Public school students who missed 15 or more school days in the year, for any reason.",
       "percent of students", LOWER, "U.S. Department of Education, Civil Rights Data Collection"),
    _m("children_in_poverty", "social_economic", "Children in poverty",
       "Children under 18 living in households with income below the federal poverty level.",
       "percent of children", LOWER, ACS),
    _m("income_inequality", "social_economic", "Income inequality",
       "The Gini index of household income: 0 when every household has the same income, 1 when one has it all.",
       "Gini index (0–1)", LOWER, ACS, hi=1, decimals=2),
    _m("housing_cost_burden", "social_economic", "Housing cost, excessive",
       "Households spending 30 percent or more of their income on rent or owner costs.",
       "percent of households", LOWER, ACS),
    _m("racial_segregation", "social_economic", "Neighborhood racial/ethnic segregation",
       "How unevenly racial and ethnic groups are spread across the city's census tracts (an index of "
       "dissimilarity across groups): 0 when every neighborhood mirrors the city, 100 when no group shares one.",
       "index (0–100)", LOWER, ACS),
    _m("unemployment", "social_economic", "Unemployment",
       "People 16 and older in the civilian labor force who are unemployed and looking for work.",
       "percent of the labor force", LOWER, ACS),
    _m("violent_crime", "social_economic", "Violent crime",
       "Homicides, rapes, robberies and aggravated assaults reported to police per 100,000 people.",
       "offenses per 100,000 people", LOWER, "FBI Uniform Crime Reporting Program", hi=10_000, decimals=0),
    # --- physical environment (6)
    _m("air_pollution", "physical_environment", "Air pollution – particulate matter",
       "Average annual concentration of fine particulate matter (PM2.5) in the air.",
       "micrograms per cubic meter", LOWER,
       "EPA Downscaler model via CDC National Environmental Public Health Tracking", hi=100),
    _m("lead_exposure_risk", "physical_environment", "Lead exposure risk index",
       "Risk of childhood lead exposure from the age of housing and the poverty of its residents, ranked in "
       "deciles across U.S. census tracts and averaged for the city: 1 is the lowest risk, 10 the highest.",
       "index (1–10)", LOWER, "Computed from ACS housing age and poverty (Washington State Department of "
       "Health method)", lo=1, hi=10),
    _m("housing_lead_risk", "physical_environment", "Housing with potential lead risk",
       "Housing units built before 1980, when lead paint was still in use.", "percent of housing units", LOWER,
       ACS),
    _m("limited_healthy_food", "physical_environment", "Limited access to healthy foods",
       "People living more than half a mile from a supermarket or large grocery store.", "percent of people",
       LOWER, "USDA Food Access Research Atlas"),
    _m("park_access", "physical_environment", "Park access",
       "People living within a half-mile walk of a park.", "percent of people", HIGHER,
       "The Trust for Public Land, ParkServe"),
    _m("walkability", "physical_environment", "Walkability",
       "How easy it is to walk to daily needs, from street intersections, the mix of homes and jobs, and "
       "transit: 1 is least walkable, 20 most.", "index (1–20)", HIGHER, "EPA National Walkability Index",
       lo=1, hi=20),
)

BY_ID: dict[str, Measure] = {m.id: m for m in CATALOGUE}
BY_NAME: dict[str, Measure] = {m.name.casefold(): m for m in CATALOGUE}

assert len(CATALOGUE) == 36 and len(BY_ID) == 36, "the catalogue is 36 measures, each with its own id"
