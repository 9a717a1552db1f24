import Foundation

/// The registry shipped inside the binary: the repository's `datasets.json` as it was when this binary was
/// built (a test keeps the two equal), used when no --datasets, $VISPRUNER_DATASETS or data-root
/// `datasets.json` is given, so an installed binary needs no file beside it.
enum BuiltInRegistry {
    static let json = #"""
{
  "datasets": [
    {
      "name": "vqav2",
      "title": "VQAv2 test-dev (EvalAI)",
      "split": "test-dev2015",
      "questionFile": "vqav2/llava_vqav2_mscoco_test-dev2015.jsonl",
      "annotationFiles": {
        "test_split": "vqav2/llava_vqav2_mscoco_test2015.jsonl",
        "val_questions": "vqav2/v2_OpenEnded_mscoco_val2014_questions.json",
        "val_annotations": "vqav2/v2_mscoco_val2014_annotations.json"
      },
      "imageFolder": "vqav2/test2015",
      "promptSuffix": "\nAnswer the question using a single word or phrase.",
      "scorer": "vqav2",
      "submissionFormat": "evalai-vqav2",
      "maxNewTokens": 128
    },
    {
      "name": "gqa",
      "title": "GQA testdev-balanced",
      "split": "testdev_balanced",
      "questionFile": "gqa/llava_gqa_testdev_balanced.jsonl",
      "annotationFiles": {
        "questions": "gqa/data/questions/testdev_balanced_questions.json"
      },
      "imageFolder": "gqa/data/images",
      "promptSuffix": "\nAnswer the question using a single word or phrase.",
      "scorer": "gqa",
      "submissionFormat": "gqa-predictions",
      "maxNewTokens": 128
    },
    {
      "name": "mme",
      "title": "MME",
      "split": "all",
      "questionFile": "MME/llava_mme.jsonl",
      "annotationFiles": {
        "ground_truth": "MME/MME_Benchmark_release_version"
      },
      "imageFolder": "MME/MME_Benchmark_release_version",
      "promptSuffix": "\nAnswer the question using a single word or phrase.",
      "scorer": "mme",
      "submissionFormat": "mme-eval-tool",
      "maxNewTokens": 128
    },
    {
      "name": "pope",
      "title": "POPE (COCO val2014: adversarial, popular, random)",
      "split": "test",
      "questionFile": "pope/llava_pope_test.jsonl",
      "annotationFiles": {
        "labels": "pope/coco"
      },
      "imageFolder": "pope/val2014",
      "promptSuffix": "\nAnswer the question using a single word or phrase.",
      "scorer": "pope",
      "submissionFormat": "pope-answers",
      "maxNewTokens": 128
    },
    {
      "name": "scienceqa",
      "title": "ScienceQA-IMG test",
      "split": "test",
      "questionFile": "scienceqa/llava_test_CQM-I.json",
      "annotationFiles": {
        "problems": "scienceqa/problems.json",
        "pid_splits": "scienceqa/pid_splits.json"
      },
      "imageFolder": "scienceqa/images/test",
      "promptSuffix": "\nAnswer with the option's letter from the given choices directly.",
      "scorer": "scienceqa",
      "submissionFormat": "scienceqa-result",
      "maxNewTokens": 1024
    },
    {
      "name": "textvqa",
      "title": "TextVQA val",
      "split": "val",
      "questionFile": "textvqa/llava_textvqa_val_v051_ocr.jsonl",
      "annotationFiles": {
        "annotations": "textvqa/TextVQA_0.5.1_val.json"
      },
      "imageFolder": "textvqa/train_images",
      "promptSuffix": "\nAnswer the question using a single word or phrase.",
      "scorer": "textvqa",
      "submissionFormat": "evalai-textvqa",
      "maxNewTokens": 128
    }
  ]
}
"""#
}
