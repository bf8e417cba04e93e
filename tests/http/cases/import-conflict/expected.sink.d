[
  {
    "external_id": "1",
    "id": 1
  },
  {
    "external_id": "2",
    "id": 2
  },
  {
    "external_id": "0",
    "id": 3
  }
]
