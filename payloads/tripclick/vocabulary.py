"""Words the day generator draws from: clinical areas, query terms, title and URL shapes.

Taken in spirit from the real TripClick sample (areas as the logs spell them, queries
with operators and trailing spaces, guideline and PubMed URLs); weights are rough
shares seen in the sample.
"""

from __future__ import annotations

# (area, relative weight). Mostly proper case; the lower-case spellings also occur in the logs.
CLINICAL_AREAS: list[tuple[str, int]] = [
    ("Endocrinology", 95),
    ("Gastroenterology", 79),
    ("Pediatrics", 78),
    ("OB-Gyn", 67),
    ("Oncology", 58),
    ("Neurology", 52),
    ("Surgery", 51),
    ("Infectious Disease", 45),
    ("Cardiology", 43),
    ("Geriatrics", 31),
    ("Rheumatology", 30),
    ("Psychiatry", 26),
    ("Radiology", 25),
    ("Orthopedic", 25),
    ("Hematology", 20),
    ("Dermatology", 18),
    ("Dentistry", 16),
    ("Physical Medicine", 14),
    ("Women's Health", 13),
    ("Otolaryngology-ENT", 12),
    ("Emergency Medicine", 11),
    ("Anesthesiology", 11),
    ("Pulmonology", 8),
    ("Ophthalmology", 7),
    ("Urology", 6),
    ("Nephrology", 6),
    ("Primary Care", 5),
    ("orthopedic", 3),
    ("hematology", 3),
    ("sports_medicine", 2),
]

# Conditions per area, for titles and queries.
CONDITIONS: dict[str, list[str]] = {
    "Endocrinology": ["type 2 diabetes", "hypothyroidism", "obesity", "gestational diabetes"],
    "Gastroenterology": ["Crohn's disease", "GERD", "cholecystectomy", "irritable bowel syndrome"],
    "Pediatrics": ["bronchiolitis", "otitis media", "ADHD", "neonatal jaundice"],
    "OB-Gyn": ["pre-eclampsia", "endometriosis", "preterm labour", "pelvic pain"],
    "Oncology": ["breast cancer", "HER2-positive breast cancer", "melanoma", "lung cancer"],
    "Neurology": ["migraine", "multiple sclerosis", "epilepsy", "occipital neuralgia"],
    "Surgery": ["laparoscopic surgery", "hernia repair", "tissue morcellation", "appendicitis"],
    "Infectious Disease": ["sepsis", "urinary tract infection", "HIV", "osteomyelitis"],
    "Cardiology": ["atrial fibrillation", "heart failure", "hypertension", "angina"],
    "Geriatrics": ["falls in older adults", "dementia", "frailty", "polypharmacy"],
    "Rheumatology": ["rheumatoid arthritis", "gout", "lupus", "epicondylitis"],
    "Psychiatry": ["depression", "schizophrenia", "anxiety", "bipolar disorder"],
    "Radiology": ["CT screening", "MRI of the knee", "ultrasound", "mammography"],
    "Orthopedic": ["hip fracture", "low back pain", "ACL injury", "osteoarthritis"],
    "Hematology": ["iron deficiency anaemia", "venous thromboembolism", "sickle cell disease"],
    "Dermatology": ["psoriasis", "atopic eczema", "non-melanoma skin cancer", "acne"],
    "Dentistry": ["dental caries", "periodontitis", "fluoride varnish"],
    "Physical Medicine": ["stroke rehabilitation", "chronic pain", "exercise therapy"],
    "Women's Health": ["menopause", "osteoporosis", "contraception"],
    "Otolaryngology-ENT": ["tonsillectomy", "sinusitis", "hearing loss"],
    "Emergency Medicine": ["cardiac arrest", "anaphylaxis", "head injury"],
    "Anesthesiology": ["postoperative nausea", "spinal anaesthesia", "sedation"],
    "Pulmonology": ["COPD", "asthma", "pneumonia"],
    "Ophthalmology": ["glaucoma", "macular degeneration", "cataract"],
    "Urology": ["benign prostatic hyperplasia", "kidney stones", "incontinence"],
    "Nephrology": ["chronic kidney disease", "dialysis", "acute kidney injury"],
    "Primary Care": ["smoking cessation", "weight loss", "vaccination"],
    "orthopedic": ["ankle sprain", "rotator cuff tear"],
    "hematology": ["thrombocytopenia", "haemophilia"],
    "sports_medicine": ["concussion", "tendinopathy"],
}

INTERVENTIONS = [
    "exercise",
    "metformin",
    "vitamin D supplementation",
    "cognitive behavioural therapy",
    "steroid injections",
    "pulsed radiofrequency",
    "trastuzumab",
    "low-fat diet",
    "acupuncture",
    "early mobilisation",
    "antibiotic prophylaxis",
    "nicotinamide",
    "statins",
    "probiotics",
]

TITLE_SHAPES = [
    "{intervention} for {condition}: a systematic review",
    "Guideline on the management of {condition}",
    "Randomized, double-blind trial of {intervention} in {condition}",
    "{Condition} in adults: diagnosis and management",
    "Effectiveness of {intervention} compared with usual care for {condition}",
    "Technical update on {condition}",
    "{intervention} versus placebo for {condition} in older adults",
    "Clinical practice guideline: {condition}",
]

URL_SHAPES = [
    "http://www.ncbi.nlm.nih.gov/pubmed/{n8}?dopt=Abstract",
    "https://www.nice.org.uk/guidance/ng{n3}",
    "http://onlinelibrary.wiley.com/doi/10.1002/14651858.CD{n6}.pub2/abstract",
    "https://guideline.gov/summaries/summary/{n5}",
    "http://www.sign.ac.uk/pdf/sign{n3}.pdf",
    "https://www.uspreventiveservicestaskforce.org/Page/Document/{n5}",
]

QUERY_SHAPES = [
    "{condition}",
    "{condition} {intervention}",
    "{intervention} for {condition}",
    "title:{condition}",
    "{condition} from:2011",
    "{condition} AND {intervention}",
    "{condition} OR {condition2}",
    "{condition} NOT children",
    "({condition})({intervention})(-)(adults)",
    "{condition} guideline",
]
