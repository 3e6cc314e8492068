# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.
#
# Written by hand here (this project's machines cannot reach the Terraform registry): every entry below is copied
# from public lock files and was found IDENTICAL (version, every h1 and the full zh list) in at least two
# independent repositories (repository, commit, path):
#   coder/coder 2.13.1 (h1 of one platform + the registry's zh list):
#     codewiresh/example 05328212d343681aea6cbcd2a112e96eae96e572 coder/.terraform.lock.hcl
#     defn/dev 0b871755e2c3e63f91f40045ff3e9f6a0f6982b3 m/coder/template/coder-defn-k8s-template/.terraform.lock.hcl
#     defn/dev ee41863a192d6ac7b53793c609ccbb7eff22e5c4 m/coder/template/coder-defn-ssh-template/.terraform.lock.hcl
#   hashicorp/kubernetes 2.38.0 (h1 of 11 platforms + zh list):
#     ppat/coder e660eb1a0b43bb732af5c51a973c486520287410 templates/kubernetes/homelab-workspace/.terraform.lock.hcl
#     rhysj6/homelab 7df03e54314eaa2f085e0c3aea89006eb732c34f clusters/management/core/.terraform.lock.hcl
#     slashr/homelab 8ed6cbcf6d9263aa7f35a744f10180f8b43702a3 kubernetes/.terraform.lock.hcl
#     varadiistvan/home-cluster 35eee91d59ac26572ce07cd22072664491975034 .terraform.lock.hcl
#   hashicorp/time 0.13.1 (h1 of one platform + zh list):
#     coder/templates fc530bb06ed22d8cc08fb5524f0de7422964797b coder/.terraform.lock.hcl
#     chrisguest75/terraform_examples fc582d205b911cb600fd209c93d5d539f29aabaf 44_time_based_plans/.terraform.lock.hcl
# The zh hashes cover every platform's package, so `terraform init` verifies the download on any platform and adds
# that platform's h1. Refresh with registry access: terraform providers lock -platform=linux_amd64 -platform=linux_arm64

provider "registry.terraform.io/coder/coder" {
  version     = "2.13.1"
  constraints = ">= 2.13.1, < 3.0.0"
  hashes = [
    "h1:oo6ST/RHdch2u6x7OV3ojkQCM1EmBF3KrEuiJehT23E=",
    "zh:04e38e4e37c89b78401c7689ade07a708635340138974bc12840920deed24c1b",
    "zh:0b32684dcc4d8f24a9535649d47c74a116e9682dc73551f429a98a774981b98f",
    "zh:0cb5ae4b1f1ae0e7d8a3a8c50ce516c230c1ba4853500d6b83b8cbb144e70f84",
    "zh:20195e4ba03fb8ba35b5143bbead4357f53c8c5c9eb2568b212dafd4d02a4ee6",
    "zh:3ca0921e0a01cbc38eb0c062e4e67fc15b1139de389c63ba21e95cb10a3b1e1c",
    "zh:56e734e1ab749654beea1995040c2eeb152214be5ba2327370c3e557acd2d328",
    "zh:61dc3807ae2ed8c3e15263ae1e2a5bba1baa094bd8268e18f27ef3e182c87ea6",
    "zh:6512b32a91ffffe940bb3c74129fb7fdf626cfe96b59754e464cb8d2eaa76f27",
    "zh:6b840fe8bead62341d077efb99332c7c00a5e6e1b01fdb216e9d8b94bd92114a",
    "zh:70392013fad78fb487d52e6139cd4e370e264d220cd039be205ad4b7686eaf90",
    "zh:c12c385d2f66f4b9297552f1ce011e16155e8f3941efa02ed7aebcdbc8f738b4",
    "zh:cd614d643c4c4c970a971a42bdfcd65257d3068c6d9c2e2decc209493d6c6a14",
    "zh:dc9da448e52885fcf1705b9138ba6cf98cec66a8cca6cad49bced87569ac22ab",
    "zh:e99d656a0e50fb0af4ebf752ff0123f25d09a1c74689c261d3c38659d1587764",
    "zh:f569b65999264a9416862bca5cd2a6177d94ccb0424f3a4ef424428912b9cb3c",
  ]
}

provider "registry.terraform.io/hashicorp/kubernetes" {
  version     = "2.38.0"
  constraints = "~> 2.38.0"
  hashes = [
    "h1:1OF0rDUteVdoX04BrtmTc0T4NOo6+D0utmK6hM0EzZw=",
    "h1:5CkveFo5ynsLdzKk+Kv+r7+U9rMrNjfZPT3a0N/fhgE=",
    "h1:7nJdsd1RMPBtOjDXidB37+KSDN5VcOWkbkow69qJVGc=",
    "h1:D8JZJgZSnSaPRynEBgxsSvuwxbJK+oiZie4xHx2EzC0=",
    "h1:ElxtiTYl1L0rwN7VQuGb/R6ntPKocQ4GO7MGmnaGekI=",
    "h1:PrqdwvK/d9ZW1G35lUc5nkMyHa3/9+JOnbs66IJHNNw=",
    "h1:XCkL/mxjWTawg6gg+jlpCQhF/+SNRoCEZxbbkDTj42s=",
    "h1:deJNiRn8IN1u7CQoRIJzjkNdApY4HFvQgvMld7gX5ko=",
    "h1:lhkYLPvEGl9vhWc8aP5hSvIyfsFEsOB+AKLpMfNjb4c=",
    "h1:soK8Lt0SZ6dB+HsypFRDzuX/npqlMU6M0fvyaR1yW0k=",
    "h1:ynRfNQBVjhOOETY+XQnhyweReJbi7//FvxTFkoA39/c=",
    "zh:0af928d776eb269b192dc0ea0f8a3f0f5ec117224cd644bdacdc682300f84ba0",
    "zh:1be998e67206f7cfc4ffe77c01a09ac91ce725de0abaec9030b22c0a832af44f",
    "zh:326803fe5946023687d603f6f1bab24de7af3d426b01d20e51d4e6fbe4e7ec1b",
    "zh:4a99ec8d91193af961de1abb1f824be73df07489301d62e6141a656b3ebfff12",
    "zh:5136e51765d6a0b9e4dbcc3b38821e9736bd2136cf15e9aac11668f22db117d2",
    "zh:63fab47349852d7802fb032e4f2b6a101ee1ce34b62557a9ad0f0f0f5b6ecfdc",
    "zh:924fb0257e2d03e03e2bfe9c7b99aa73c195b1f19412ca09960001bee3c50d15",
    "zh:b63a0be5e233f8f6727c56bed3b61eb9456ca7a8bb29539fba0837f1badf1396",
    "zh:d39861aa21077f1bc899bc53e7233262e530ba8a3a2d737449b100daeb303e4d",
    "zh:de0805e10ebe4c83ce3b728a67f6b0f9d18be32b25146aa89116634df5145ad4",
    "zh:f569b65999264a9416862bca5cd2a6177d94ccb0424f3a4ef424428912b9cb3c",
    "zh:faf23e45f0090eef8ba28a8aac7ec5d4fdf11a36c40a8d286304567d71c1e7db",
  ]
}

provider "registry.terraform.io/hashicorp/time" {
  version     = "0.13.1"
  constraints = "~> 0.13.1"
  hashes = [
    "h1:ZT5ppCNIModqk3iOkVt5my8b8yBHmDpl663JtXAIRqM=",
    "zh:02cb9aab1002f0f2a94a4f85acec8893297dc75915f7404c165983f720a54b74",
    "zh:04429b2b31a492d19e5ecf999b116d396dac0b24bba0d0fb19ecaefe193fdb8f",
    "zh:26f8e51bb7c275c404ba6028c1b530312066009194db721a8427a7bc5cdbc83a",
    "zh:772ff8dbdbef968651ab3ae76d04afd355c32f8a868d03244db3f8496e462690",
    "zh:78d5eefdd9e494defcb3c68d282b8f96630502cac21d1ea161f53cfe9bb483b3",
    "zh:898db5d2b6bd6ca5457dccb52eedbc7c5b1a71e4a4658381bcbb38cedbbda328",
    "zh:8de913bf09a3fa7bedc29fec18c47c571d0c7a3d0644322c46f3aa648cf30cd8",
    "zh:9402102c86a87bdfe7e501ffbb9c685c32bbcefcfcf897fd7d53df414c36877b",
    "zh:b18b9bb1726bb8cfbefc0a29cf3657c82578001f514bcf4c079839b6776c47f0",
    "zh:b9d31fdc4faecb909d7c5ce41d2479dd0536862a963df434be4b16e8e4edc94d",
    "zh:c951e9f39cca3446c060bd63933ebb89cedde9523904813973fbc3d11863ba75",
    "zh:e5b773c0d07e962291be0e9b413c7a22c044b8c7b58c76e8aa91d1659990dfb5",
  ]
}
